//! Product ARNs: `arn:<partition>:securityhub:<region>:<account-or-empty>:product/<company-id>/<product-id>`.
//!
//! Partner products have an empty account (`arn:aws:securityhub:us-east-1::product/prowler/prowler`);
//! the account's own custom product is `product/<account>/default` with the account filled in.
//! A product ARN with an empty region is malformed (spec §2.1 shows AWS rejecting
//! `arn:aws:securityhub:::product/aquasecurity/aquasecurity`).

use fleetward_model::is_valid_account_id;

/// The parts of a product ARN.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ProductArn {
    pub partition: String,
    pub region: String,
    /// Empty for partner products, the 12-digit account for the account's own products.
    pub account: String,
    pub company_id: String,
    pub product_id: String,
}

impl ProductArn {
    /// The product-subscription ARN `ListEnabledProductsForImport` returns for this product in
    /// `account` (prowler looks for it, spec §2.5).
    pub fn subscription_arn(&self, account: &str) -> String {
        format!(
            "arn:{}:securityhub:{}:{}:product-subscription/{}/{}",
            self.partition, self.region, account, self.company_id, self.product_id
        )
    }
}

/// Splits a product ARN into its parts; `None` unless it has exactly the documented form.
/// Partition and region are lower-case letters, digits and `-`; the account is empty or 12 digits;
/// company and product ids are non-empty and contain no `/`, `:` or whitespace.
pub fn parse_product_arn(arn: &str) -> Option<ProductArn> {
    let mut parts = arn.splitn(6, ':');
    let (Some("arn"), Some(partition), Some("securityhub"), Some(region), Some(account), Some(res)) = (
        parts.next(),
        parts.next(),
        parts.next(),
        parts.next(),
        parts.next(),
        parts.next(),
    ) else {
        return None;
    };
    let (company_id, product_id) = res.strip_prefix("product/")?.split_once('/')?;
    let ok = is_name(partition)
        && is_name(region)
        && (account.is_empty() || is_valid_account_id(account))
        && is_id(company_id)
        && is_id(product_id);
    ok.then(|| ProductArn {
        partition: partition.to_string(),
        region: region.to_string(),
        account: account.to_string(),
        company_id: company_id.to_string(),
        product_id: product_id.to_string(),
    })
}

fn is_name(s: &str) -> bool {
    !s.is_empty()
        && s.bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
}

fn is_id(s: &str) -> bool {
    !s.is_empty() && !s.chars().any(|c| c == '/' || c == ':' || c.is_whitespace())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn partner_and_default_products_parse() {
        let p =
            parse_product_arn("arn:aws:securityhub:eu-west-1::product/prowler/prowler").unwrap();
        assert_eq!(
            p,
            ProductArn {
                partition: "aws".into(),
                region: "eu-west-1".into(),
                account: String::new(),
                company_id: "prowler".into(),
                product_id: "prowler".into(),
            }
        );
        assert_eq!(
            p.subscription_arn("123456789012"),
            "arn:aws:securityhub:eu-west-1:123456789012:product-subscription/prowler/prowler"
        );
        let d = parse_product_arn(
            "arn:aws-us-gov:securityhub:us-gov-west-1:123456789012:product/123456789012/default",
        )
        .unwrap();
        assert_eq!(d.partition, "aws-us-gov");
        assert_eq!(d.account, "123456789012");
        assert_eq!(d.company_id, "123456789012");
        assert_eq!(d.product_id, "default");
        assert!(
            parse_product_arn(
                "arn:aws:securityhub:us-west-2::product/aws/iot-device-defender-audit"
            )
            .is_some()
        );
    }

    #[test]
    fn malformed_arns_are_rejected() {
        for bad in [
            "",
            "arn:aws:securityhub:::product/aquasecurity/aquasecurity",
            "arn::securityhub:us-east-1::product/a/b",
            "arn:aws:iot:us-east-1::product/a/b",
            "arn:aws:securityhub:us-east-1::product/a",
            "arn:aws:securityhub:us-east-1::product//b",
            "arn:aws:securityhub:us-east-1::product/a/",
            "arn:aws:securityhub:us-east-1::product/a/b/c",
            "arn:aws:securityhub:us-east-1::product/a/b:c",
            "arn:aws:securityhub:us-east-1::product/a b/c",
            "arn:aws:securityhub:us-east-1:1234:product/a/b",
            "arn:aws:securityhub:us-east-1::hub/default",
            "arn:aws:securityhub:US-EAST-1::product/a/b",
            "aws:securityhub:us-east-1::product/a/b",
        ] {
            assert_eq!(parse_product_arn(bad), None, "{bad}");
        }
    }
}
