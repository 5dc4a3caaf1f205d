//! Record encoding: values round-trip through every storage form, and shared values stop
//! costing record bytes once they repeat.

use serde_json::{Value, json};

use super::{Entries, FindingRecord, Str, StrValues, find};
use crate::access::{
    first_date, first_number, first_string, map_value, string_values, updated_at_ms,
};
use crate::catalog::{AttrId, attribute_by_name, attrs};
use crate::group::group_values;
use crate::interner::Interner;

fn a(name: &str) -> AttrId {
    attribute_by_name(name).unwrap()
}

pub(crate) fn sample(n: u64) -> Value {
    json!({
        "Id": format!("prowler-aws-check-123456789012-us-east-1-{n:08x}"),
        "ProductArn": "arn:aws:securityhub:us-east-1::product/prowler/prowler",
        "Title": "A shared title",
        "Types": ["T/One", "T/Two", "T/One"],
        "Severity": {"Label": "LOW", "Normalized": 1, "Product": 2.5},
        "UpdatedAt": "2024-01-04T15:25:10.123Z",
        "RecordState": "ACTIVE",
        "Resources": [{"Id": format!("arn:aws:iam::123456789012:user/u{n}"),
                       "Details": {"AwsEc2Instance": {"IpV4Addresses": ["10.0.0.1", "bogus"]}}}],
        "ProductFields": {
            "aws/securityhub/FindingId": format!("arn:aws:securityhub:us-east-1::product/prowler/prowler/prowler-aws-check-123456789012-us-east-1-{n:08x}"),
            "copy": format!("arn:aws:iam::123456789012:user/u{n}"),
            "n": 5
        },
        "Sample": true
    })
}

#[test]
fn values_round_trip_in_every_encoding() {
    let mut i = Interner::new();
    for n in 0..4 {
        let rec = FindingRecord::from_finding(&sample(n), &mut i);
        let id = format!("prowler-aws-check-123456789012-us-east-1-{n:08x}");
        assert_eq!(
            first_string(&rec, &i, attrs::ID).as_deref(),
            Some(id.as_str())
        );
        assert_eq!(
            first_string(&rec, &i, attrs::TITLE).as_deref(),
            Some("A shared title")
        );
        let types: Vec<_> = string_values(&rec, &i, a("Type")).collect();
        assert_eq!(
            types,
            ["T/One", "T/Two"],
            "duplicates inside an attribute are dropped"
        );
        assert_eq!(first_number(&rec, &i, a("SeverityNormalized")), Some(1.0));
        assert_eq!(first_number(&rec, &i, a("SeverityProduct")), Some(2.5));
        assert_eq!(updated_at_ms(&rec, &i), Some(1_704_381_910_123));
        assert_eq!(first_date(&rec, &i, a("CreatedAt")), None);
        assert_eq!(
            group_values(&rec, &i, a("ResourceAwsEc2InstanceIpV4Addresses")),
            ["10.0.0.1"]
        );
        assert_eq!(group_values(&rec, &i, a("Sample")), ["true"]);
        let fid = format!("arn:aws:securityhub:us-east-1::product/prowler/prowler/{id}");
        assert_eq!(
            map_value(&rec, &i, a("ProductFields"), "aws/securityhub/FindingId").as_deref(),
            Some(fid.as_str())
        );
        let user = format!("arn:aws:iam::123456789012:user/u{n}");
        assert_eq!(
            map_value(&rec, &i, a("ProductFields"), "copy").as_deref(),
            Some(user.as_str())
        );
        assert_eq!(
            map_value(&rec, &i, a("ProductFields"), "n"),
            None,
            "non-string map values are skipped"
        );
        assert_eq!(
            first_string(&rec, &i, a("ResourceId")).as_deref(),
            Some(user.as_str())
        );
    }
}

#[test]
fn repeated_values_move_out_of_the_record() {
    let mut i = Interner::new();
    let first = FindingRecord::from_finding(&sample(0), &mut i);
    let second = FindingRecord::from_finding(&sample(1), &mut i);
    let third = FindingRecord::from_finding(&sample(2), &mut i);
    let (l1, l2, l3) = (first.layout(&i), second.layout(&i), third.layout(&i));
    assert!(
        !l1.shared_shape && !l2.shared_shape,
        "a shape is shared from its second repeat"
    );
    assert!(l3.shared_shape);
    assert!(second.heap_bytes() < first.heap_bytes(), "{l1:?} {l2:?}");
    assert!(third.heap_bytes() < second.heap_bytes(), "{l2:?} {l3:?}");
    // The third record holds the shape symbol, the dates, and the unique tails only.
    assert!(third.heap_bytes() < 60, "{l3:?}");
    // The title is interned; the FindingId is derived (one header byte).
    let title = find(&third.buf, &i, attrs::TITLE).and_then(|e| StrValues::new(e).next());
    assert!(matches!(title, Some(Str::Sym(_))), "{title:?}");
    let pf = l3
        .attributes
        .iter()
        .find(|(at, _)| *at == a("ProductFields"))
        .unwrap();
    assert!(pf.1 < 20, "{pf:?}");
    // Every record still sees every attribute, in catalogue order.
    let order: Vec<AttrId> = Entries::new(&third.buf, &i).map(|e| e.attr).collect();
    let mut sorted = order.clone();
    sorted.sort();
    assert_eq!(order, sorted);
    assert_eq!(order.len(), l1.attributes.len());
}

#[test]
fn finding_ids_are_never_interned_whole() {
    let mut i = Interner::new();
    for _ in 0..3 {
        FindingRecord::from_finding(&sample(7), &mut i);
    }
    assert_eq!(
        i.lookup("prowler-aws-check-123456789012-us-east-1-00000007"),
        None
    );
    assert!(
        i.lookup("prowler-aws-check-123456789012-us-east-1-")
            .is_some()
    );
    assert!(
        i.lookup("arn:aws:iam::123456789012:user/u7").is_some(),
        "other values are"
    );
}

#[test]
fn wrong_types_and_shapes_are_ignored() {
    let mut i = Interner::new();
    let f = json!({
        "Id": 5,
        "Title": ["not", "a", "string"],
        "Severity": {"Normalized": "40"},
        "UpdatedAt": "yesterday",
        "Resources": {"Id": "not a list"},
        "Network": {"SourceIpV4": "300.1.1.1"},
        "Sample": "true",
        "ProductFields": ["x"]
    });
    let rec = FindingRecord::from_finding(&f, &mut i);
    assert_eq!(first_string(&rec, &i, attrs::ID), None);
    assert_eq!(first_number(&rec, &i, a("SeverityNormalized")), None);
    assert_eq!(updated_at_ms(&rec, &i), None);
    assert_eq!(
        group_values(&rec, &i, a("NetworkSourceIpV4")),
        Vec::<String>::new()
    );
    // Strings inside a list at a scalar path still count: lists are flattened.
    assert_eq!(string_values(&rec, &i, attrs::TITLE).count(), 3);
    assert_eq!(
        first_string(&rec, &i, a("ResourceId")).as_deref(),
        Some("not a list")
    );
    let empty = FindingRecord::from_finding(&json!("not an object"), &mut i);
    assert!(Entries::new(&empty.buf, &i).next().is_none());
    assert!(empty.heap_bytes() <= 2);
}

#[test]
fn numbers_keep_their_exact_value() {
    let mut i = Interner::new();
    for v in [
        0.0,
        -1.0,
        70.0,
        2.5,
        -0.125,
        1e300,
        9_007_199_254_740_993.0,
        f64::MIN_POSITIVE,
    ] {
        let rec = FindingRecord::from_finding(&json!({"Confidence": v}), &mut i);
        assert_eq!(first_number(&rec, &i, a("Confidence")), Some(v));
    }
}

#[test]
fn garbage_buffers_decode_to_nothing() {
    let i = Interner::new();
    for bytes in [
        vec![],
        vec![0xff],
        vec![0, 5, 1],
        vec![9],
        vec![0, 0, 2, 200, 1],
        vec![0, 0, 2, 2, 0x0b, 0],
        vec![0, 0, 2, 3, 0x81, 0x80, 0x80],
    ] {
        let rec = FindingRecord {
            buf: bytes.into_boxed_slice(),
        };
        for e in Entries::new(&rec.buf, &i) {
            for s in StrValues::new(e) {
                let _ = s.text(&rec.buf, &i);
            }
        }
        let _ = first_string(&rec, &i, AttrId(2));
        let _ = group_values(&rec, &i, AttrId(2));
    }
}
