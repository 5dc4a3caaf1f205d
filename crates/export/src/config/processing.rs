//! `ProcessingConfiguration`: Fleetward runs no Lambda, so a `Lambda` processor's `LambdaArn`
//! names what to run instead (a documented deviation):
//! - `fleetward:hec-event?sourcetype=ST&host={thing}&source=S&index=I` — the built-in transform
//!   of seed 001's Lambda: each JSON record becomes `{"sourcetype": ST, "event": record}`,
//!   with optional host/source/index templated from the record's fields;
//! - an `http://` or `https://` URL — an external transform speaking the Firehose
//!   record-transformation contract (Ok / Dropped / ProcessingFailed).
//!
//! `AppendDelimiterToRecord` appends a newline to every record, as in AWS.

use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use super::fields::Fields;
use crate::error::{ExportError, ExportResult};

pub const BUILTIN_HEC_EVENT: &str = "fleetward:hec-event";
/// AWS's default NumberOfRetries for a Lambda processor.
const DEFAULT_RETRIES: u32 = 3;

/// The templates of the built-in HEC transform; `{a.b}` is replaced by the record's field.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct HecTemplate {
    pub sourcetype: Option<String>,
    pub host: Option<String>,
    pub source: Option<String>,
    pub index: Option<String>,
    /// `split=defender`: one event per Device Defender metric (`metrics[]` of an exported
    /// metrics message) or audit check (`auditDetails[]` of an audit report, also inside an
    /// SNS envelope's `Message`), as the seed-001 Lambda does.
    #[serde(default)]
    pub split_defender: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum TransformSpec {
    HecEvent(HecTemplate),
    Http { url: String, retries: u32 },
    AppendDelimiter,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Processing {
    pub enabled: bool,
    /// The `Processors` member as given, echoed by DescribeDeliveryStream.
    pub processors: Value,
    pub transforms: Vec<TransformSpec>,
}

impl Processing {
    /// The active transforms, in order (none when processing is disabled).
    pub fn active(&self) -> &[TransformSpec] {
        if self.enabled { &self.transforms } else { &[] }
    }

    pub fn describe(&self) -> Value {
        if self.processors.is_null() {
            json!({"Enabled": self.enabled, "Processors": []})
        } else {
            json!({"Enabled": self.enabled, "Processors": self.processors})
        }
    }

    pub fn read(parent: &Fields<'_>) -> ExportResult<Option<Self>> {
        let Some(p) = parent.object("ProcessingConfiguration")? else {
            return Ok(None);
        };
        let mut transforms = Vec::new();
        for processor in p.list("Processors", 0, 5)? {
            transforms.push(read_processor(&processor)?);
        }
        Ok(Some(Self {
            enabled: p.bool("Enabled")?.unwrap_or(false),
            processors: p.raw("Processors").cloned().unwrap_or(Value::Null),
            transforms,
        }))
    }
}

fn read_processor(p: &Fields<'_>) -> ExportResult<TransformSpec> {
    let kind = p
        .enum_value(
            "Type",
            &[
                "RecordDeAggregation",
                "Decompression",
                "CloudWatchLogProcessing",
                "Lambda",
                "MetadataExtraction",
                "AppendDelimiterToRecord",
            ],
        )?
        .ok_or_else(|| p.missing("Type"))?;
    let mut arn = None;
    let mut retries = DEFAULT_RETRIES;
    for param in p.list("Parameters", 0, 100)? {
        let name = param.required_string("ParameterName")?;
        let value = param
            .bounded_string("ParameterValue", 1, 5120)?
            .ok_or_else(|| param.missing("ParameterValue"))?;
        match name {
            "LambdaArn" => arn = Some(value),
            "NumberOfRetries" => {
                retries = value
                    .parse::<u32>()
                    .ok()
                    .filter(|n| *n <= 5)
                    .ok_or_else(|| ExportError::invalid("NumberOfRetries must be 0 to 5."))?
            }
            "RoleArn" | "BufferSizeInMBs" | "BufferIntervalInSeconds" | "Delimiter" => {}
            other => {
                return Err(ExportError::invalid(format!(
                    "Processor parameter {other} is not supported by Fleetward."
                )));
            }
        }
    }
    match kind {
        "AppendDelimiterToRecord" => Ok(TransformSpec::AppendDelimiter),
        "Lambda" => {
            let arn = arn.ok_or_else(|| {
                ExportError::invalid("A Lambda processor needs the LambdaArn parameter.")
            })?;
            parse_lambda(arn, retries)
        }
        other => Err(ExportError::invalid(format!(
            "Processor type {other} is not supported by Fleetward."
        ))),
    }
}

fn parse_lambda(arn: &str, retries: u32) -> ExportResult<TransformSpec> {
    if arn.starts_with("http://") || arn.starts_with("https://") {
        reqwest::Url::parse(arn)
            .map_err(|e| ExportError::invalid(format!("Transform URL '{arn}': {e}.")))?;
        return Ok(TransformSpec::Http {
            url: arn.to_string(),
            retries,
        });
    }
    let (head, query) = arn.split_once('?').unwrap_or((arn, ""));
    if head != BUILTIN_HEC_EVENT {
        return Err(ExportError::invalid(format!(
            "Fleetward runs no Lambda functions: LambdaArn must be '{BUILTIN_HEC_EVENT}?sourcetype=...' (the built-in transform) or an http(s) URL of a transform service, not '{arn}'."
        )));
    }
    let url = reqwest::Url::parse(&format!("fleetward:x?{query}"))
        .map_err(|e| ExportError::invalid(format!("LambdaArn '{arn}': {e}.")))?;
    let mut template = HecTemplate::default();
    for (key, value) in url.query_pairs() {
        if key == "split" {
            if value != "defender" {
                return Err(ExportError::invalid(format!(
                    "Option split of {BUILTIN_HEC_EVENT} takes only 'defender', not '{value}'."
                )));
            }
            template.split_defender = true;
            continue;
        }
        let slot = match key.as_ref() {
            "sourcetype" => &mut template.sourcetype,
            "host" => &mut template.host,
            "source" => &mut template.source,
            "index" => &mut template.index,
            other => {
                return Err(ExportError::invalid(format!(
                    "Unknown option '{other}' of {BUILTIN_HEC_EVENT}; use sourcetype, host, source, index, split."
                )));
            }
        };
        *slot = Some(value.into_owned());
    }
    Ok(TransformSpec::HecEvent(template))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read(v: Value) -> ExportResult<Option<Processing>> {
        let wrapper = json!({ "ProcessingConfiguration": v });
        Processing::read(&Fields::root(&wrapper).unwrap())
    }

    #[test]
    fn builtin_lambda_arn_carries_the_templates() {
        let p = read(json!({"Enabled": true, "Processors": [{"Type": "Lambda", "Parameters": [
            {"ParameterName": "LambdaArn", "ParameterValue": "fleetward:hec-event?sourcetype=aws%3Aiot&host={thing}"}
        ]}]}))
        .unwrap()
        .unwrap();
        assert_eq!(
            p.active(),
            &[TransformSpec::HecEvent(HecTemplate {
                sourcetype: Some("aws:iot".into()),
                host: Some("{thing}".into()),
                source: None,
                index: None,
                split_defender: false,
            })]
        );
    }

    #[test]
    fn real_lambda_arns_and_unknown_types_are_refused() {
        let lambda = json!({"Enabled": true, "Processors": [{"Type": "Lambda", "Parameters": [
            {"ParameterName": "LambdaArn", "ParameterValue": "arn:aws:lambda:us-east-1:1:function:f"}]}]});
        assert!(read(lambda).is_err());
        assert!(read(json!({"Processors": [{"Type": "Decompression"}]})).is_err());
        assert!(read(json!({"Processors": [{"Type": "Nope"}]})).is_err());
    }

    #[test]
    fn disabled_processing_runs_nothing() {
        let p =
            read(json!({"Enabled": false, "Processors": [{"Type": "AppendDelimiterToRecord"}]}))
                .unwrap()
                .unwrap();
        assert!(p.active().is_empty());
    }
}
