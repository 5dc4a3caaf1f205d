//! The fast JSON path agrees with the full parser: whatever it accepts, the full parser
//! accepts with an equal report; it takes the common reports (else it would be no fast path).

use proptest::collection::vec;
use proptest::prelude::*;

use crate::Encoding;
use crate::fast::scan;
use crate::parse::parse_full;
use crate::test_support::{encode, report_to_json};
use crate::tests_examples::{AWS_LONG, AWS_SHORT};
use crate::tests_props::{key_style, report};

/// `scan` either declines or gives exactly what the full parser gives.
fn agrees(payload: &[u8]) -> Result<bool, String> {
    match scan(payload) {
        None => Ok(false),
        Some(fast) => match parse_full(payload, Encoding::Json) {
            Ok(full) if full == fast => Ok(true),
            other => Err(format!(
                "fast path gave {fast:?}, full parser {other:?} for {}",
                String::from_utf8_lossy(payload)
            )),
        },
    }
}

#[test]
fn aws_examples_take_the_fast_path() {
    for text in [AWS_LONG, AWS_SHORT] {
        assert_eq!(agrees(text.as_bytes()), Ok(true));
        // Compact form, as agents send it.
        let compact =
            serde_json::to_vec(&serde_json::from_str::<serde_json::Value>(text).unwrap()).unwrap();
        assert_eq!(agrees(&compact), Ok(true));
    }
}

#[test]
fn edge_cases_agree() {
    let cases = [
        r#"{"hed":{"rid":1,"v":"1.0"},"met":{}}"#,
        r#"{"hed":{"rid":1,"v":"1.0"},"cmet":{}}"#,
        r#"{"hed":{"rid":1,"v":"1.0"}}"#,
        r#"{"hed":{"rid":0,"v":"1.0"},"met":{}}"#,
        r#"{"hed":{"rid":9223372036854775807,"v":"1.0"},"met":{}}"#,
        r#"{"hed":{"rid":9223372036854775808,"v":"1.0"},"met":{}}"#,
        r#"{"hed":{"rid":18446744073709551616,"v":"1.0"},"met":{}}"#,
        r#"{"hed":{"rid":1.0,"v":"1.0"},"met":{}}"#,
        r#"{"hed":{"rid":-1,"v":"1.0"},"met":{}}"#,
        r#"{"hed":{"rid":01,"v":"1.0"},"met":{}}"#,
        r#"{"hed":{"rid":1,"v":"2.0"},"met":{}}"#,
        r#"{"hed":{"rid":1,"v":"01.7"},"met":{}}"#,
        r#"{"hed":{"rid":1,"v":"1.0.0"},"met":{}}"#,
        r#"{"hed":{"rid":1,"v":"1."},"met":{}}"#,
        r#"{"hed":{"rid":1,"rid":2,"v":"1.0"},"met":{}}"#,
        r#"{"hed":{"rid":1,"report_id":2,"v":"1.0"},"met":{}}"#,
        r#"{"hed":{"rid":1,"v":"1.0"},"met":{},"x":1}"#,
        r#"{"hed":{"rid":1,"v":"1.0"},"met":null}"#,
        r#"{"hed":{"rid":1,"v":"1.0"},"met":{}} "#,
        r#"{"hed":{"rid":1,"v":"1.0"},"met":{}} x"#,
        r#"{"hed":{"rid":1,"v":"1.0"},"met":{},}"#,
        r#"{"hed":{"rid":1,"v":"1.0"},"met":{"tp":{"pts":[{"pt":0}]}}}"#,
        r#"{"hed":{"rid":1,"v":"1.0"},"met":{"tp":{"pts":[{"pt":65535},{"if":"é"}]}}}"#,
        r#"{"hed":{"rid":1,"v":"1.0"},"met":{"tp":{"pts":[{"pt":65536}]}}}"#,
        r#"{"hed":{"rid":1,"v":"1.0"},"met":{"tp":{"pts":[],"t":5}}}"#,
        r#"{"hed":{"rid":1,"v":"1.0"},"met":{"tp":{"pts":[1]}}}"#,
        r#"{"hed":{"rid":1,"v":"1.0"},"met":{"tc":{"ec":{"cs":[{"rad":"::1:80","lp":0}]}}}}"#,
        r#"{"hed":{"rid":1,"v":"1.0"},"met":{"tc":{"ec":{"cs":[{"rad":"[::1]:80","li":"e\"t"}]}}}}"#,
        r#"{"hed":{"rid":1,"v":"1.0"},"met":{"tc":{"ec":{"cs":[{"lp":1}]}}}}"#,
        r#"{"hed":{"rid":1,"v":"1.0"},"met":{"tc":{"ec":{"cs":[{"rad":"1.2.3.4"}]}}}}"#,
        r#"{"hed":{"rid":1,"v":"1.0"},"met":{"tc":{}}}"#,
        r#"{"hed":{"rid":1,"v":"1.0"},"met":{"ns":{"bi":1,"bo":2,"pi":3,"po":4}}}"#,
        r#"{"hed":{"rid":1,"v":"1.0"},"met":{"ns":{"bi":1e3}}}"#,
        r#"{"hed":{"rid":1,"v":"1.0"},"cmet":{"a":[{"number":-0}]}}"#,
        r#"{"hed":{"rid":1,"v":"1.0"},"cmet":{"a":[{"number":-0.0}]}}"#,
        r#"{"hed":{"rid":1,"v":"1.0"},"cmet":{"a":[{"number":1e400}]}}"#,
        r#"{"hed":{"rid":1,"v":"1.0"},"cmet":{"a":[{"number":1e-400}]}}"#,
        r#"{"hed":{"rid":1,"v":"1.0"},"cmet":{"a":[{"number":-9223372036854775808}]}}"#,
        r#"{"hed":{"rid":1,"v":"1.0"},"cmet":{"a":[{"number":18446744073709551615}]}}"#,
        r#"{"hed":{"rid":1,"v":"1.0"},"cmet":{"a":[{"number":0.30000000000000004}]}}"#,
        r#"{"hed":{"rid":1,"v":"1.0"},"cmet":{"a":[{"number":2.65094476403945e-11}]}}"#,
        r#"{"hed":{"rid":1,"v":"1.0"},"cmet":{"a":[{"number":1E+5}]}}"#,
        r#"{"hed":{"rid":1,"v":"1.0"},"cmet":{"a":[{"number":1.}]}}"#,
        r#"{"hed":{"rid":1,"v":"1.0"},"cmet":{"a":[{"number":1},{"number":2}]}}"#,
        r#"{"hed":{"rid":1,"v":"1.0"},"cmet":{"a":[{"number":1,"number_list":[]}]}}"#,
        r#"{"hed":{"rid":1,"v":"1.0"},"cmet":{"a":[{"number":1}],"a":[{"number":2}]}}"#,
        r#"{"hed":{"rid":1,"v":"1.0"},"cmet":{"aws:x":[{"number":1}],"b c":[{"number":1}]}}"#,
        r#"{"hed":{"rid":1,"v":"1.0"},"cmet":{"s":[{"string_list":["ok","not ok"]}]}}"#,
        r#"{"hed":{"rid":1,"v":"1.0"},"cmet":{"s":[{"string_list":["a",1]}]}}"#,
        r#"{"hed":{"rid":1,"v":"1.0"},"cmet":{"i":[{"ip_list":["10.0.0.1","10.0.0.0/8"]}]}}"#,
        r#"{"hed":{"rid":1,"v":"1.0"},"cmet":{"i":[{"ip_list":["::ffff:10.0.0.1"]}]}}"#,
        r#"{"hed":{"rid":1,"v":"1.0"},"cmet":{"n":[{"number_list":[1,2.5,-3e2]}]}}"#,
        r#"{"hed":{"rid":1,"v":"1.0"},"cmet":{"n":[{"nope":[1]}]}}"#,
        "{\"hed\":{\"rid\":1,\"v\":\"1.0\"},\"met\":{\"tp\":{\"pts\":[{\"if\":\"a\u{1}\"}]}}}",
        "\t\r\n{\"hed\":{\"rid\":1,\"v\":\"1.0\"},\"met\":{}}\n",
        "",
        "{",
        "[]",
    ];
    let mut taken = 0;
    for case in cases {
        taken += usize::from(agrees(case.as_bytes()).unwrap_or_else(|e| panic!("{e}")));
    }
    assert!(taken >= 20, "only {taken} cases took the fast path");
    let too_many_ports = format!(
        r#"{{"hed":{{"rid":1,"v":"1.0"}},"met":{{"tp":{{"pts":[{}]}}}}}}"#,
        vec![r#"{"pt":1}"#; 1001].join(",")
    );
    assert_eq!(agrees(too_many_ports.as_bytes()), Ok(false));
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn valid_reports_agree(report in report(), seed in any::<u64>(), style in 0u8..3) {
        let bytes = encode(&report_to_json(&report, &mut key_style(style, seed)), Encoding::Json);
        prop_assert_eq!(agrees(&bytes).map(|_| ()), Ok(()));
        // Reports whose strings need no escapes are always taken.
        let plain = !String::from_utf8_lossy(&bytes).contains('\\');
        if plain && report.custom_metrics.len() <= 32 {
            prop_assert_eq!(scan(&bytes), Some(report));
        }
    }

    #[test]
    fn mangled_reports_agree(
        report in report(),
        edits in vec((any::<prop::sample::Index>(), any::<u8>(), 0u8..3), 1..8),
    ) {
        let mut bytes = encode(&report_to_json(&report, &mut key_style(1, 0)), Encoding::Json);
        for (at, byte, op) in edits {
            if bytes.is_empty() {
                break;
            }
            let i = at.index(bytes.len());
            match op {
                0 => bytes[i] = byte,
                1 => { bytes.remove(i); }
                _ => bytes.insert(i, byte),
            }
        }
        prop_assert_eq!(agrees(&bytes).map(|_| ()), Ok(()));
    }
}
