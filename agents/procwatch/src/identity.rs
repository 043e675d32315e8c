//! Users and groups by name or number.

use nix::unistd::{Gid, Group, Uid, User};

pub fn uid_of(name: &str) -> Result<u32, String> {
    user(name).map(|u| u.uid.as_raw())
}

pub fn user(name: &str) -> Result<User, String> {
    let found = match name.parse::<u32>() {
        Ok(n) => User::from_uid(Uid::from_raw(n)),
        Err(_) => User::from_name(name),
    };
    match found {
        Ok(Some(u)) => Ok(u),
        Ok(None) => Err(format!("user '{name}' does not exist")),
        Err(e) => Err(format!("cannot look up user '{name}': {e}")),
    }
}

pub fn group(name: &str) -> Result<Group, String> {
    let found = match name.parse::<u32>() {
        Ok(n) => Group::from_gid(Gid::from_raw(n)),
        Err(_) => Group::from_name(name),
    };
    match found {
        Ok(Some(g)) => Ok(g),
        Ok(None) => Err(format!("group '{name}' does not exist")),
        Err(e) => Err(format!("cannot look up group '{name}': {e}")),
    }
}
