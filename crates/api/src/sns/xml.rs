//! The AWS query protocol's response side: XML in the SNS namespace.

use std::fmt::Write;

use fleetward_events::SnsError;

pub const NAMESPACE: &str = "http://sns.amazonaws.com/doc/2010-03-31/";

/// Text escaped for XML; characters XML 1.0 cannot carry at all become U+FFFD.
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            // Kept as references so that XML parsers do not normalise them away.
            '\r' => out.push_str("&#13;"),
            '\t' | '\n' => out.push(c),
            c if (c as u32) < 0x20 || c == '\u{FFFE}' || c == '\u{FFFF}' => out.push('\u{FFFD}'),
            c => out.push(c),
        }
    }
    out
}

/// Builds a result body element by element.
#[derive(Default)]
pub struct Body(String);

impl Body {
    pub fn element(&mut self, name: &str, text: &str) -> &mut Self {
        let _ = write!(self.0, "<{name}>{}</{name}>", escape(text));
        self
    }

    pub fn open(&mut self, name: &str) -> &mut Self {
        let _ = write!(self.0, "<{name}>");
        self
    }

    pub fn close(&mut self, name: &str) -> &mut Self {
        let _ = write!(self.0, "</{name}>");
        self
    }

    /// A map member: `<NAME><entry><key/><value/></entry>...</NAME>`.
    pub fn map(&mut self, name: &str, entries: &[(String, String)]) -> &mut Self {
        self.open(name);
        for (k, v) in entries {
            self.open("entry")
                .element("key", k)
                .element("value", v)
                .close("entry");
        }
        self.close(name)
    }

    pub fn into_string(self) -> String {
        self.0
    }
}

/// `<ACTIONResponse><ACTIONResult>...</ACTIONResult><ResponseMetadata>...`; operations
/// without an output shape have no Result element.
pub fn response(action: &str, result: Option<&str>, request_id: &str) -> String {
    let mut out = format!("<{action}Response xmlns=\"{NAMESPACE}\">");
    if let Some(result) = result {
        let _ = write!(out, "<{action}Result>{result}</{action}Result>");
    }
    let _ = write!(
        out,
        "<ResponseMetadata><RequestId>{request_id}</RequestId></ResponseMetadata></{action}Response>"
    );
    out
}

/// `<ErrorResponse><Error><Type/><Code/><Message/></Error><RequestId/></ErrorResponse>`.
pub fn error(fault: &str, code: &str, message: &str, request_id: &str) -> String {
    format!(
        "<ErrorResponse xmlns=\"{NAMESPACE}\"><Error><Type>{fault}</Type><Code>{code}</Code><Message>{}</Message></Error><RequestId>{request_id}</RequestId></ErrorResponse>",
        escape(message)
    )
}

/// An events error as the query protocol carries it.
pub fn sns_error(e: &SnsError, request_id: &str) -> (u16, String) {
    let message = match e {
        SnsError::Internal(detail) => {
            tracing::error!(%detail, "Notification operation failed.");
            "Internal service failure.".to_string()
        }
        other => other.to_string(),
    };
    (e.status(), error(e.fault(), e.code(), &message, request_id))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escaping_covers_markup_and_invalid_characters() {
        assert_eq!(escape("a<b>&\"c'"), "a&lt;b&gt;&amp;&quot;c&apos;");
        assert_eq!(escape("x\u{1}y\nz"), "x\u{FFFD}y\nz");
    }

    #[test]
    fn responses_and_errors_have_the_query_shape() {
        let mut body = Body::default();
        body.element("TopicArn", "arn:aws:sns:r:1:t");
        let text = response("CreateTopic", Some(&body.into_string()), "rid");
        assert_eq!(
            text,
            format!(
                "<CreateTopicResponse xmlns=\"{NAMESPACE}\"><CreateTopicResult><TopicArn>arn:aws:sns:r:1:t</TopicArn></CreateTopicResult><ResponseMetadata><RequestId>rid</RequestId></ResponseMetadata></CreateTopicResponse>"
            )
        );
        let e = error("Sender", "NotFound", "Topic does not exist", "rid");
        assert!(e.contains("<Code>NotFound</Code>") && e.contains("<Type>Sender</Type>"));
    }
}
