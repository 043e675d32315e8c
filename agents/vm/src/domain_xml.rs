//! Reads a libvirt domain configuration (the `config` file): the few facts the agent needs
//! (name, UUID, emulator, disks, networks, pools) without asking libvirt.

use quick_xml::events::{BytesStart, Event};
use quick_xml::Reader;

/// Where a disk's data lives, as far as the domain XML says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DiskSource {
    /// `<disk type='file'><source file=.../>`
    File(String),
    /// `<disk type='block'><source dev=.../>`
    Block(String),
    /// `<disk type='network'><source protocol='rbd|iscsi|nbd|gluster|...' name=.../>`
    Network { protocol: String, name: String },
    /// `<disk type='volume'><source pool=... volume=.../>`
    Volume { pool: String, volume: String },
    /// `<disk type='dir'><source dir=.../>`
    Dir(String),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Disk {
    /// Target device name (`vda`), for messages.
    pub target: String,
    /// None for an empty CD-ROM drive.
    pub source: Option<DiskSource>,
}

/// The facts of one `<domain>` document.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct DomainConfig {
    pub name: String,
    pub uuid: Option<String>,
    /// `<domain type=...>`: kvm, qemu, test, lxc, xen...
    pub domain_type: String,
    pub emulator: Option<String>,
    pub disks: Vec<Disk>,
    /// Libvirt virtual networks used by `<interface type='network'>`.
    pub networks: Vec<String>,
    /// Storage pools used by `<disk type='volume'>`.
    pub pools: Vec<String>,
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum DomainXmlError {
    #[error("not well-formed XML: {0}")]
    Malformed(String),
    #[error("the root element is <{0}>, not <domain>")]
    NotADomain(String),
    #[error("the document is empty")]
    Empty,
    #[error("<domain> has no <name>")]
    NoName,
}

fn attr(e: &BytesStart, key: &str) -> Option<String> {
    e.attributes()
        .flatten()
        .find(|a| a.key.as_ref() == key.as_bytes())
        .and_then(|a| a.unescape_value().ok().map(|v| v.into_owned()))
}

/// Parses a domain XML document (the content of the `config` file).
pub fn parse(xml: &str) -> Result<DomainConfig, DomainXmlError> {
    let mut reader = Reader::from_str(xml);
    let mut parser = Parser::default();
    loop {
        let event = reader
            .read_event()
            .map_err(|e| DomainXmlError::Malformed(e.to_string()))?;
        match event {
            Event::Start(ref e) => parser.element(e, false)?,
            Event::Empty(ref e) => parser.element(e, true)?,
            Event::End(_) => parser.end(),
            Event::Text(t) => {
                let text = t
                    .unescape()
                    .map_err(|e| DomainXmlError::Malformed(e.to_string()))?;
                parser.text(text.trim());
            }
            Event::Eof => break,
            _ => {}
        }
    }
    parser.finish()
}

/// What the parse has seen so far.
#[derive(Default)]
struct Parser {
    cfg: DomainConfig,
    /// Element path from the root, to know where a text node or an attribute belongs.
    path: Vec<String>,
    /// The disk being read, with its type.
    disk: Option<(String, Disk)>,
    interface_type: Option<String>,
    seen_root: bool,
}

impl Parser {
    fn at(&self) -> Vec<&str> {
        self.path.iter().map(String::as_str).collect()
    }

    fn element(&mut self, e: &BytesStart, is_empty: bool) -> Result<(), DomainXmlError> {
        let name = String::from_utf8_lossy(e.name().as_ref()).into_owned();
        if !self.seen_root {
            self.seen_root = true;
            if name != "domain" {
                return Err(DomainXmlError::NotADomain(name));
            }
            self.cfg.domain_type = attr(e, "type").unwrap_or_default();
        }
        let parent = self.at();
        match (parent.as_slice(), name.as_str()) {
            (["domain", "devices"], "disk") => {
                let kind = attr(e, "type").unwrap_or_else(|| "file".into());
                let disk = Disk {
                    target: String::new(),
                    source: None,
                };
                self.disk = Some((kind, disk));
                if is_empty {
                    finish_disk(&mut self.cfg, self.disk.take());
                }
            }
            (["domain", "devices", "disk"], "source") => self.disk_source(e),
            (["domain", "devices", "disk"], "target") => {
                if let Some((_, d)) = self.disk.as_mut() {
                    d.target = attr(e, "dev").unwrap_or_default();
                }
            }
            (["domain", "devices"], "interface") => self.interface_type = attr(e, "type"),
            (["domain", "devices", "interface"], "source")
                if self.interface_type.as_deref() == Some("network") =>
            {
                if let Some(net) = attr(e, "network") {
                    if !self.cfg.networks.contains(&net) {
                        self.cfg.networks.push(net);
                    }
                }
            }
            _ => {}
        }
        if !is_empty {
            self.path.push(name);
        }
        Ok(())
    }

    fn disk_source(&mut self, e: &BytesStart) {
        let Some((kind, d)) = self.disk.as_mut() else {
            return;
        };
        d.source = disk_source(kind, e);
        if let Some(DiskSource::Volume { pool, .. }) = &d.source {
            if !self.cfg.pools.contains(pool) {
                self.cfg.pools.push(pool.clone());
            }
        }
    }

    fn end(&mut self) {
        let closed = self.path.pop();
        if self.at().as_slice() == ["domain", "devices"] && closed.as_deref() == Some("disk") {
            finish_disk(&mut self.cfg, self.disk.take());
        }
    }

    fn text(&mut self, text: &str) {
        match self.at().as_slice() {
            ["domain", "name"] => self.cfg.name = text.to_string(),
            ["domain", "uuid"] => self.cfg.uuid = Some(text.to_ascii_lowercase()),
            ["domain", "devices", "emulator"] => self.cfg.emulator = Some(text.to_string()),
            _ => {}
        }
    }

    fn finish(self) -> Result<DomainConfig, DomainXmlError> {
        if !self.seen_root {
            return Err(DomainXmlError::Empty);
        }
        if !self.path.is_empty() {
            return Err(DomainXmlError::Malformed(format!(
                "unclosed <{}>",
                self.path.join("><")
            )));
        }
        if self.cfg.name.is_empty() {
            return Err(DomainXmlError::NoName);
        }
        Ok(self.cfg)
    }
}

fn finish_disk(cfg: &mut DomainConfig, disk: Option<(String, Disk)>) {
    if let Some((_, d)) = disk {
        cfg.disks.push(d);
    }
}

fn disk_source(kind: &str, e: &BytesStart) -> Option<DiskSource> {
    match kind {
        "file" => attr(e, "file").map(DiskSource::File),
        "block" => attr(e, "dev").map(DiskSource::Block),
        "dir" => attr(e, "dir").map(DiskSource::Dir),
        "network" => Some(DiskSource::Network {
            protocol: attr(e, "protocol").unwrap_or_default(),
            name: attr(e, "name").unwrap_or_default(),
        }),
        "volume" => Some(DiskSource::Volume {
            pool: attr(e, "pool").unwrap_or_default(),
            volume: attr(e, "volume").unwrap_or_default(),
        }),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const TINY: &str = r#"<domain type='qemu'>
  <name>tinyvm</name>
  <uuid>7B1C6A52-1d7e-4c55-9a3e-000000000002</uuid>
  <devices>
    <emulator>/usr/bin/qemu-system-x86_64</emulator>
    <disk type='file' device='disk'>
      <source file='/srv/shared/tiny.raw'/>
      <target dev='vda' bus='virtio'/>
    </disk>
    <disk type='network' device='disk'>
      <source protocol='rbd' name='pool/img'><host name='mon1'/></source>
      <target dev='vdb'/>
    </disk>
    <disk type='volume'><source pool='p1' volume='v1'/><target dev='vdc'/></disk>
    <disk type='file' device='cdrom'><target dev='hdc'/></disk>
    <interface type='network'><source network='default'/></interface>
    <interface type='bridge'><source bridge='br0'/></interface>
  </devices>
</domain>"#;

    #[test]
    fn reads_name_uuid_emulator_disks_networks() {
        let c = parse(TINY).expect("parses");
        assert_eq!(c.name, "tinyvm");
        assert_eq!(c.domain_type, "qemu");
        assert_eq!(
            c.uuid.as_deref(),
            Some("7b1c6a52-1d7e-4c55-9a3e-000000000002")
        );
        assert_eq!(c.emulator.as_deref(), Some("/usr/bin/qemu-system-x86_64"));
        assert_eq!(c.disks.len(), 4);
        assert_eq!(
            c.disks[0].source,
            Some(DiskSource::File("/srv/shared/tiny.raw".into()))
        );
        assert_eq!(c.disks[0].target, "vda");
        assert_eq!(
            c.disks[1].source,
            Some(DiskSource::Network {
                protocol: "rbd".into(),
                name: "pool/img".into()
            })
        );
        assert_eq!(c.disks[3].source, None);
        assert_eq!(c.networks, vec!["default".to_string()]);
        assert_eq!(c.pools, vec!["p1".to_string()]);
    }

    #[test]
    fn rejects_what_is_not_a_domain() {
        assert_eq!(
            parse("<network><name>x</name></network>"),
            Err(DomainXmlError::NotADomain("network".into()))
        );
        assert_eq!(parse(""), Err(DomainXmlError::Empty));
        assert_eq!(
            parse("<domain type='kvm'><uuid>x</uuid></domain>"),
            Err(DomainXmlError::NoName)
        );
        assert!(matches!(
            parse("<domain><name>x</name>"),
            Err(DomainXmlError::Malformed(_))
        ));
        assert!(matches!(
            parse("<domain><name>x</nam></domain>"),
            Err(DomainXmlError::Malformed(_))
        ));
        assert!(parse("just text").is_err());
    }
}
