//! HEC reply codes (spec A2 table) as Firehose error codes, and which are retried: server
//! errors and busy/unhealthy (8, 9, 18–20) are; token, format, index and channel errors are
//! not (the batch goes to the backup directory).

use super::Failure;

pub fn classify(http_status: u16, code: Option<i64>, text: &str) -> Failure {
    let message = format!(
        "HEC answered {http_status}, code {}: {text}",
        code.map_or("-".to_string(), |c| c.to_string())
    );
    match code {
        Some(1) => Failure::permanent("Splunk.DisabledToken", message),
        Some(2 | 3 | 4 | 16 | 21) => Failure::permanent("Splunk.InvalidToken", message),
        Some(22) => Failure::permanent("Splunk.DisabledToken", message),
        Some(5 | 6 | 12 | 13 | 15) => Failure::permanent("Splunk.InvalidDataFormat", message),
        Some(7) => Failure::permanent("Splunk.InvalidIndex", message),
        Some(10 | 11) => Failure::permanent("Splunk.InvalidEndpoint", message),
        Some(14) => Failure::permanent("Splunk.DisabledAck", message),
        Some(8 | 9 | 18 | 19 | 20) => Failure::retryable("Splunk.ServerError", message),
        _ if http_status == 429 || http_status >= 500 => {
            Failure::retryable("Splunk.ServerError", message)
        }
        _ if http_status == 404 || http_status == 405 => {
            Failure::permanent("Splunk.InvalidEndpoint", message)
        }
        _ if http_status == 401 || http_status == 403 => {
            Failure::permanent("Splunk.InvalidToken", message)
        }
        _ if http_status == 413 => Failure::permanent("Splunk.InvalidDataFormat", message),
        // Any other answer: a proxy or an unexpected server; retrying is the safe side.
        _ => Failure::retryable("Splunk.ServerError", message),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retried_codes_follow_the_table() {
        for (status, code) in [(500, 8), (503, 9), (503, 18), (503, 19), (503, 20)] {
            assert!(classify(status, Some(code), "").retryable, "code {code}");
        }
        for (status, code) in [
            (403, 1),
            (401, 2),
            (401, 3),
            (403, 4),
            (400, 5),
            (400, 6),
            (400, 7),
            (400, 10),
            (400, 11),
            (400, 12),
            (400, 13),
            (400, 15),
            (400, 16),
        ] {
            assert!(!classify(status, Some(code), "").retryable, "code {code}");
        }
        assert!(classify(429, None, "").retryable);
        assert!(classify(502, None, "").retryable);
        assert_eq!(
            classify(403, Some(4), "Invalid token").code,
            "Splunk.InvalidToken"
        );
        assert_eq!(classify(400, Some(7), "").code, "Splunk.InvalidIndex");
    }
}
