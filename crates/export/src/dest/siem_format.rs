//! SIEM message formats for the syslog destination (spec A4): the RFC 5424 header, and the
//! record as JSON, ArcSight CEF or QRadar LEEF 1.0. CEF and LEEF carry the record's top-level
//! scalar members as extension fields; the signature id / event id is the record's `name` or
//! `checkName` (Device Defender metrics and audit findings), else `record`.

use serde_json::Value;

use crate::config::SyslogFormat;

/// local0, informational.
const PRI: u8 = 16 * 8 + 6;

fn event_id(record: &Value) -> String {
    ["name", "checkName", "Title", "eventType"]
        .iter()
        .find_map(|k| record.get(*k).and_then(Value::as_str))
        .unwrap_or("record")
        .to_string()
}

fn scalars(record: &Value) -> Vec<(String, String)> {
    let Some(map) = record.as_object() else {
        return Vec::new();
    };
    map.iter()
        .filter_map(|(k, v)| match v {
            Value::String(s) => Some((k.clone(), s.clone())),
            Value::Number(n) => Some((k.clone(), n.to_string())),
            Value::Bool(b) => Some((k.clone(), b.to_string())),
            _ => None,
        })
        .collect()
}

fn cef_header(s: &str) -> String {
    s.replace('\\', "\\\\").replace('|', "\\|")
}

fn cef_value(s: &str) -> String {
    s.replace('\\', "\\\\")
        .replace('=', "\\=")
        .replace('\r', "\\r")
        .replace('\n', "\\n")
}

/// CEF keys are alphanumeric; others are dropped from the key.
fn cef_key(k: &str) -> String {
    k.chars().filter(|c| c.is_ascii_alphanumeric()).collect()
}

pub fn cef(record: &Value, arrival_ms: i64) -> String {
    let id = event_id(record);
    let mut ext = vec![format!("rt={arrival_ms}")];
    for (k, v) in scalars(record) {
        let key = cef_key(&k);
        if !key.is_empty() {
            ext.push(format!("{key}={}", cef_value(&v)));
        }
    }
    format!(
        "CEF:0|Fleetward|Fleetward|1.0|{}|{}|5|{}",
        cef_header(&id),
        cef_header(&id),
        ext.join(" ")
    )
}

fn leef_value(s: &str) -> String {
    s.replace(['\t', '\n', '\r'], " ")
}

pub fn leef(record: &Value, arrival_ms: i64) -> String {
    let id = event_id(record).replace('|', " ");
    let mut attrs = vec![
        format!("devTime={arrival_ms}"),
        "devTimeFormat=epoch_ms".to_string(),
    ];
    for (k, v) in scalars(record) {
        attrs.push(format!(
            "{}={}",
            leef_value(&k).replace('=', "_"),
            leef_value(&v)
        ));
    }
    format!("LEEF:1.0|Fleetward|Fleetward|1.0|{id}|{}", attrs.join("\t"))
}

fn nil_or(s: &str, max: usize) -> String {
    let cleaned: String = s
        .chars()
        .filter(|c| c.is_ascii_graphic())
        .take(max)
        .collect();
    if cleaned.is_empty() {
        "-".into()
    } else {
        cleaned
    }
}

/// One RFC 5424 message (without framing).
pub fn rfc5424(
    data: &[u8],
    arrival_ms: i64,
    format: SyslogFormat,
    hostname: &str,
    msgid: &str,
) -> String {
    let record: Value = serde_json::from_slice(data)
        .unwrap_or_else(|_| Value::String(String::from_utf8_lossy(data).into_owned()));
    let msg = match format {
        SyslogFormat::Json => match &record {
            Value::String(s) => s.replace('\n', " "),
            other => other.to_string(),
        },
        SyslogFormat::Cef => cef(&record, arrival_ms),
        SyslogFormat::Leef => leef(&record, arrival_ms),
    };
    let ts = time::OffsetDateTime::from_unix_timestamp_nanos(arrival_ms as i128 * 1_000_000)
        .unwrap_or(time::OffsetDateTime::UNIX_EPOCH)
        .format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_else(|_| "-".into());
    format!(
        "<{PRI}>1 {ts} {} fleetward - {} - {msg}",
        nil_or(hostname, 255),
        nil_or(msgid, 32)
    )
}

/// RFC 6587 octet counting: `LEN SP MSG`.
pub fn octet_counted(msg: &str) -> Vec<u8> {
    let mut out = format!("{} ", msg.len()).into_bytes();
    out.extend_from_slice(msg.as_bytes());
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn cef_escapes_header_and_extension() {
        let r = json!({"name": "a|b", "thing": "t=1", "note": "x\ny", "nested": {"x": 1}});
        let line = cef(&r, 5);
        assert_eq!(
            line,
            "CEF:0|Fleetward|Fleetward|1.0|a\\|b|a\\|b|5|rt=5 name=a|b thing=t\\=1 note=x\\ny"
        );
    }

    #[test]
    fn leef_is_tab_separated() {
        let line = leef(&json!({"checkName": "LOGGING_DISABLED_CHECK", "n": 2}), 7);
        assert_eq!(
            line,
            "LEEF:1.0|Fleetward|Fleetward|1.0|LOGGING_DISABLED_CHECK|devTime=7\tdevTimeFormat=epoch_ms\tcheckName=LOGGING_DISABLED_CHECK\tn=2"
        );
    }

    #[test]
    fn rfc5424_header_and_octet_counting() {
        let msg = rfc5424(br#"{"a":1}"#, 0, SyslogFormat::Json, "host one", "stream");
        assert_eq!(
            msg,
            "<134>1 1970-01-01T00:00:00Z hostone fleetward - stream - {\"a\":1}"
        );
        assert_eq!(octet_counted("abc"), b"3 abc");
    }
}
