//! Products that send findings, and the account's subscriptions to them (spec 7.2).
//!
//! The account's own `product/ACCOUNT/default` is always accepted. The catalogue lists the
//! products Fleetward itself produces (Device Defender audit and detect, as in AWS) and common
//! third-party scanners; findings from a catalogue product are accepted once subscribed.

use serde_json::{Value, json};

use crate::error::{HubError, HubResult};
use crate::input::{max_results, optional_str, required_str};
use crate::paging::page_by_offset;
use crate::settings::{KIND_SUBSCRIPTION, document};
use crate::{Caller, Hub};

/// A catalogue entry; `company_id/product_id` form the ARN's resource part.
pub struct Product {
    pub company_id: &'static str,
    pub product_id: &'static str,
    pub product_name: &'static str,
    pub company_name: &'static str,
    pub description: &'static str,
    pub categories: &'static [&'static str],
}

pub const DEVICE_DEFENDER_AUDIT: &str = "aws/iot-device-defender-audit";
pub const DEVICE_DEFENDER_DETECT: &str = "aws/iot-device-defender-detect";

pub const CATALOGUE: &[Product] = &[
    Product {
        company_id: "aws",
        product_id: "iot-device-defender-audit",
        product_name: "IoT Device Defender - Audit",
        company_name: "AWS",
        description: "Audits the security configuration of an IoT fleet: certificates, CAs, policies and logging.",
        categories: &["Software and Configuration Checks"],
    },
    Product {
        company_id: "aws",
        product_id: "iot-device-defender-detect",
        product_name: "IoT Device Defender - Detect",
        company_name: "AWS",
        description: "Detects IoT devices whose behaviour deviates from their security profiles.",
        categories: &["Unusual Behaviors"],
    },
    Product {
        company_id: "prowler",
        product_id: "prowler",
        product_name: "Prowler",
        company_name: "Prowler",
        description: "Open source security assessments and compliance checks.",
        categories: &["Software and Configuration Checks"],
    },
    Product {
        company_id: "aquasecurity",
        product_id: "aquasecurity",
        product_name: "Aqua Security",
        company_name: "Aqua Security",
        description: "Vulnerability scanning of containers and hosts (Trivy, kube-bench).",
        categories: &["Software and Configuration Checks/Vulnerabilities/CVE"],
    },
    Product {
        company_id: "cloud-custodian",
        product_id: "cloud-custodian",
        product_name: "Cloud Custodian",
        company_name: "Cloud Custodian",
        description: "Policy-as-code rules engine for cloud resources.",
        categories: &["Software and Configuration Checks"],
    },
];

/// Names a finding's product gets: (company name, product name, is the account's own product).
pub struct ProductNames {
    pub company_name: String,
    pub product_name: String,
    pub custom: bool,
}

impl Hub {
    pub fn product_arn(&self, product: &Product) -> String {
        format!(
            "arn:aws:securityhub:{}::product/{}/{}",
            self.region, product.company_id, product.product_id
        )
    }

    fn subscription_arn(&self, account_id: &str, product: &Product) -> String {
        self.arn(
            account_id,
            &format!(
                "product-subscription/{}/{}",
                product.company_id, product.product_id
            ),
        )
    }

    pub fn default_product_arn(&self, account_id: &str) -> String {
        self.arn(account_id, &format!("product/{account_id}/default"))
    }

    fn catalogue_product(&self, product_arn: &str) -> Option<&'static Product> {
        CATALOGUE
            .iter()
            .find(|p| self.product_arn(p) == product_arn)
    }

    /// Whether `account_id` accepts findings from `product_arn`, and the names they carry.
    pub(crate) fn accepted_product(
        &self,
        account_id: &str,
        settings: &crate::settings::AccountSettings,
        product_arn: &str,
    ) -> Result<ProductNames, String> {
        if product_arn == self.default_product_arn(account_id) {
            return Ok(ProductNames {
                company_name: "Personal".into(),
                product_name: "Default".into(),
                custom: true,
            });
        }
        match self.catalogue_product(product_arn) {
            Some(product) if settings.subscriptions.contains_key(product_arn) => Ok(ProductNames {
                company_name: product.company_name.into(),
                product_name: product.product_name.into(),
                custom: false,
            }),
            Some(_) => Err(format!(
                "Import of findings from product {product_arn} is not enabled for account {account_id}."
            )),
            None => Err(format!(
                "Product {product_arn} is not a product this hub knows or the account's own default product."
            )),
        }
    }

    /// Subscribes an account to a catalogue product by its `company/product` id
    /// (used on first start for Fleetward's own products); an existing subscription is kept.
    pub async fn subscribe_product(&self, account_id: &str, product_id: &str) -> HubResult<()> {
        let product = CATALOGUE
            .iter()
            .find(|p| format!("{}/{}", p.company_id, p.product_id) == product_id)
            .ok_or_else(|| HubError::InvalidInput(format!("Unknown product {product_id}.")))?;
        match self.subscribe(account_id, product).await {
            Ok(_) | Err(HubError::ResourceConflict(_)) => Ok(()),
            Err(e) => Err(e),
        }
    }

    async fn subscribe(&self, account_id: &str, product: &Product) -> HubResult<String> {
        let product_arn = self.product_arn(product);
        let subscription_arn = self.subscription_arn(account_id, product);
        let _guard = self.settings.write_lock.lock().await;
        let mut settings = (*self.settings.get(account_id).await?).clone();
        let doc = document(
            account_id,
            KIND_SUBSCRIPTION,
            &product_arn,
            subscription_arn.clone(),
            self.clock.now_ms(),
        );
        if !self.settings.store().insert_document(&doc).await? {
            return Err(HubError::ResourceConflict(format!(
                "The account is already subscribed to product {product_arn}."
            )));
        }
        settings
            .subscriptions
            .insert(product_arn, subscription_arn.clone());
        self.settings.replace(account_id, settings);
        Ok(subscription_arn)
    }

    pub async fn handle_describe_products(
        &self,
        caller: &Caller,
        input: &Value,
    ) -> HubResult<Value> {
        self.require_enabled(caller).await?;
        let wanted = optional_str(input, "ProductArn")?;
        let products: Vec<Value> = CATALOGUE
            .iter()
            .filter(|p| wanted.is_none_or(|arn| arn == self.product_arn(p)))
            .map(|p| {
                json!({
                    "ProductArn": self.product_arn(p),
                    "ProductName": p.product_name,
                    "CompanyName": p.company_name,
                    "Description": p.description,
                    "Categories": p.categories,
                    "IntegrationTypes": ["SEND_FINDINGS_TO_SECURITY_HUB"],
                })
            })
            .collect();
        let next = optional_str(input, "NextToken")?;
        let (page, next) = page_by_offset(&products, next, max_results(input, 100)?)?;
        Ok(with_token(json!({ "Products": page }), next))
    }

    pub async fn handle_enable_import_findings_for_product(
        &self,
        caller: &Caller,
        input: &Value,
    ) -> HubResult<Value> {
        self.require_enabled(caller).await?;
        let product_arn = required_str(input, "ProductArn")?;
        let product = self
            .catalogue_product(product_arn)
            .ok_or_else(|| HubError::InvalidInput(format!("Invalid ProductArn: {product_arn}")))?;
        let subscription_arn = self.subscribe(&caller.account_id, product).await?;
        Ok(json!({ "ProductSubscriptionArn": subscription_arn }))
    }

    pub async fn handle_disable_import_findings_for_product(
        &self,
        caller: &Caller,
        input: &Value,
    ) -> HubResult<Value> {
        self.require_enabled(caller).await?;
        let subscription_arn = required_str(input, "ProductSubscriptionArn")?;
        let _guard = self.settings.write_lock.lock().await;
        let mut settings = (*self.settings.get(&caller.account_id).await?).clone();
        let Some(product_arn) = settings
            .subscriptions
            .iter()
            .find(|(_, sub)| sub.as_str() == subscription_arn)
            .map(|(product, _)| product.clone())
        else {
            return Err(HubError::ResourceNotFound(format!(
                "No product subscription {subscription_arn} was found."
            )));
        };
        self.settings
            .store()
            .delete_document(&caller.account_id, KIND_SUBSCRIPTION, &product_arn)
            .await?;
        settings.subscriptions.remove(&product_arn);
        self.settings.replace(&caller.account_id, settings);
        Ok(json!({}))
    }

    pub async fn handle_list_enabled_products_for_import(
        &self,
        caller: &Caller,
        input: &Value,
    ) -> HubResult<Value> {
        let settings = self.require_enabled(caller).await?;
        let subscriptions: Vec<String> = settings.subscriptions.values().cloned().collect();
        let next = optional_str(input, "NextToken")?;
        let (page, next) = page_by_offset(&subscriptions, next, max_results(input, 100)?)?;
        Ok(with_token(json!({ "ProductSubscriptions": page }), next))
    }
}

/// Adds `NextToken` to an output when there is a next page.
pub fn with_token(mut output: Value, next: Option<String>) -> Value {
    if let (Some(token), Some(map)) = (next, output.as_object_mut()) {
        map.insert("NextToken".into(), Value::String(token));
    }
    output
}
