//! Property tests of the stdin parser: arbitrary bytes never panic, and what is accepted
//! round-trips.

use proptest::prelude::*;
use stonith::args::parse_stdin;
use stonith::common_options;

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    #[test]
    fn arbitrary_bytes_never_panic(input in proptest::collection::vec(any::<u8>(), 0..512)) {
        let table = common_options();
        let _ = parse_stdin(&table, &input);
    }

    #[test]
    fn arbitrary_lines_never_panic(lines in proptest::collection::vec("[ -~\t]{0,40}", 0..20)) {
        let table = common_options();
        let input = lines.join("\n");
        if let Err(e) = parse_stdin(&table, input.as_bytes()) {
            prop_assert!(!e.0.contains('\n'));
        }
    }

    #[test]
    fn string_values_round_trip(value in "[a-zA-Z0-9./:@ _-]{1,40}") {
        let table = common_options();
        let input = format!("ipaddr={value}\n");
        let parsed = parse_stdin(&table, input.as_bytes()).unwrap();
        // Like fence-agents: the line is stripped, the value after `=` is kept as is.
        let expected = Some(value.trim_end()).filter(|v| !v.trim().is_empty());
        prop_assert_eq!(parsed.options.text(&stonith::common::IP), expected);
    }

    #[test]
    fn secrets_never_appear_in_errors(secret in "[a-zA-Z0-9]{8,20}", junk in "[ -~]{0,20}") {
        let table = common_options();
        let input = format!("password={secret}\n{junk} x=y\nipport=nope\n");
        if let Err(e) = parse_stdin(&table, input.as_bytes()) {
            prop_assert!(!e.0.contains(&secret));
        }
    }
}
