//! Feeds arbitrary bytes to the report parser in both encodings (the first byte picks one)
//! and pushes whatever parses through the rest of the pipeline.
#![no_main]

use fleetward_device_report::{
    Encoding, ThrottlePolicy, datapoints, handle_report, parse_report, rejected_response,
};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Some((&selector, payload)) = data.split_first() else {
        return;
    };
    let enc = if selector & 1 == 0 {
        Encoding::Json
    } else {
        Encoding::Cbor
    };
    match parse_report(payload, enc) {
        Ok(report) => {
            assert!(report.report_id >= 1);
            let _ = datapoints(&report);
        }
        Err(error) => {
            let _ = rejected_response("fuzz", &error, 0, enc);
        }
    }
    let topic = match enc {
        Encoding::Json => "$aws/things/fuzz/defender/metrics/json",
        Encoding::Cbor => "$aws/things/fuzz/defender/metrics/cbor",
    };
    assert!(handle_report(topic, payload, None, &ThrottlePolicy::default(), 0).is_some());
});
