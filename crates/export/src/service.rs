//! The export service: the account's delivery streams in memory, their definitions in the
//! store, their buffers on disk, and the lifecycle operations of the `firehose` API.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::{Arc, Mutex, RwLock};

use fleetward_model::{Caller, Clock};
use fleetward_store::{Document, Store};
use serde_json::{Value, json};

use crate::config::Destination;
use crate::config::fields::Fields;
use crate::deliver::{self, DeliveryContext};
use crate::error::{ExportError, ExportResult};
use crate::log::Log;
use crate::stream::{Stream, StreamDoc};
use crate::tags;

/// Store document kind of stream definitions; key = stream name.
pub const STREAM_KIND: &str = "export.stream";
/// AWS's default quota of delivery streams per account and region.
const MAX_STREAMS: usize = 5000;

#[derive(Debug, Clone)]
pub struct ExportOptions {
    /// Buffers live in `<data_dir>/export/buffers`, failed records in `<data_dir>/export/backup`.
    pub data_dir: PathBuf,
    /// Bytes a stream holds accepted and undelivered before PutRecord answers
    /// ServiceUnavailableException.
    pub max_buffer_bytes: u64,
    /// Batches of a stream in flight (sent, awaiting response or indexer acknowledgement).
    pub max_in_flight: usize,
    /// How often pending HEC acknowledgements are polled.
    pub ack_poll_ms: u64,
}

impl ExportOptions {
    pub fn new(data_dir: PathBuf) -> Self {
        Self {
            data_dir,
            max_buffer_bytes: 1024 * 1024 * 1024,
            max_in_flight: 8,
            ack_poll_ms: 200,
        }
    }
}

type Key = (String, String);

pub struct Export {
    store: Arc<dyn Store>,
    clock: Arc<dyn Clock>,
    region: String,
    options: ExportOptions,
    streams: RwLock<HashMap<Key, Arc<Stream>>>,
    /// Serialises create, update and delete (puts only read the map).
    lifecycle: tokio::sync::Mutex<()>,
    delivery: Arc<DeliveryContext>,
    /// Topic rules with the `firehose` action (rules/).
    rules: crate::rules::Rules,
}

fn key(account: &str, name: &str) -> Key {
    (account.to_string(), name.to_string())
}

fn valid_name(name: &str) -> ExportResult<()> {
    let ok = (1..=64).contains(&name.len())
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'.' || b == b'-');
    if ok {
        Ok(())
    } else {
        Err(ExportError::invalid(format!(
            "1 validation error detected: Value '{name}' at 'deliveryStreamName' failed to satisfy constraint: Member must satisfy regular expression pattern: [a-zA-Z0-9_.-]+ and have length 1 to 64"
        )))
    }
}

impl Export {
    /// Loads every account's streams, recovers their buffers and starts delivery.
    pub async fn open(
        store: Arc<dyn Store>,
        clock: Arc<dyn Clock>,
        region: &str,
        options: ExportOptions,
    ) -> ExportResult<Arc<Self>> {
        let delivery = Arc::new(DeliveryContext::new(
            clock.clone(),
            region,
            options.data_dir.join("export").join("backup"),
            options.max_in_flight,
            options.ack_poll_ms,
        )?);
        let export = Arc::new(Self {
            store: store.clone(),
            clock,
            region: region.to_string(),
            options,
            streams: RwLock::new(HashMap::new()),
            lifecycle: tokio::sync::Mutex::new(()),
            delivery,
            rules: crate::rules::Rules::new(),
        });
        for account in store.list_accounts().await? {
            for doc in store
                .list_documents(&account.account_id, STREAM_KIND)
                .await?
            {
                let Ok(stream_doc) = serde_json::from_str::<StreamDoc>(&doc.body) else {
                    tracing::error!(account = %account.account_id, key = %doc.key, "Unreadable delivery stream definition; skipped.");
                    continue;
                };
                let stream = export.open_stream(&account.account_id, stream_doc)?;
                export.insert(stream);
            }
        }
        export
            .load_rules()
            .await
            .map_err(|e| ExportError::Internal(e.to_string()))?;
        export.start_rule_forwarding();
        Ok(export)
    }

    fn buffer_dir(&self, account: &str, doc: &StreamDoc) -> PathBuf {
        self.options
            .data_dir
            .join("export")
            .join("buffers")
            .join(account)
            .join(format!("{}-{}", doc.name, doc.buffer_id))
    }

    fn open_stream(&self, account: &str, doc: StreamDoc) -> ExportResult<Arc<Stream>> {
        let log = Arc::new(Log::open(
            &self.buffer_dir(account, &doc),
            self.options.max_buffer_bytes,
        )?);
        let (config_tx, config_rx) = tokio::sync::watch::channel(Arc::new(doc.clone()));
        let stream = Arc::new(Stream {
            account_id: account.to_string(),
            doc: RwLock::new(doc),
            log,
            worker: Mutex::new(None),
            config_tx,
        });
        let handle = deliver::spawn(self.delivery.clone(), stream.clone(), config_rx);
        if let Ok(mut w) = stream.worker.lock() {
            *w = Some(handle);
        }
        Ok(stream)
    }

    fn insert(&self, stream: Arc<Stream>) {
        let k = key(&stream.account_id, &stream.snapshot().name);
        if let Ok(mut map) = self.streams.write() {
            map.insert(k, stream);
        }
    }

    pub(crate) fn get(&self, account: &str, name: &str) -> ExportResult<Arc<Stream>> {
        self.streams
            .read()
            .ok()
            .and_then(|m| m.get(&key(account, name)).cloned())
            .ok_or_else(|| ExportError::not_found(account, name))
    }

    /// The definitions of an account's streams.
    pub(crate) fn streams_of(&self, account: &str) -> Vec<StreamDoc> {
        self.streams
            .read()
            .map(|m| {
                m.iter()
                    .filter(|((a, _), _)| a == account)
                    .map(|(_, s)| s.snapshot())
                    .collect()
            })
            .unwrap_or_default()
    }

    fn count(&self, account: &str) -> usize {
        self.streams
            .read()
            .map(|m| m.keys().filter(|(a, _)| a == account).count())
            .unwrap_or(0)
    }

    pub(crate) async fn save(&self, account: &str, doc: &StreamDoc) -> ExportResult<()> {
        self.store.put_document(&document(account, doc)).await?;
        Ok(())
    }

    pub(crate) fn now_ms(&self) -> i64 {
        self.clock.now_ms()
    }

    pub(crate) fn rules(&self) -> &crate::rules::Rules {
        &self.rules
    }

    pub(crate) fn store(&self) -> &Arc<dyn Store> {
        &self.store
    }

    pub(crate) fn region(&self) -> &str {
        &self.region
    }

    pub(crate) async fn lock(&self) -> tokio::sync::MutexGuard<'_, ()> {
        self.lifecycle.lock().await
    }

    pub async fn handle_create_delivery_stream(
        &self,
        caller: &Caller,
        input: &Value,
    ) -> ExportResult<Value> {
        let f = Fields::root(input)?;
        let name = f.required_string("DeliveryStreamName")?;
        valid_name(name)?;
        let kind = f
            .enum_value(
                "DeliveryStreamType",
                &[
                    "DirectPut",
                    "KinesisStreamAsSource",
                    "MSKAsSource",
                    "DatabaseAsSource",
                ],
            )?
            .unwrap_or("DirectPut");
        if kind != "DirectPut" {
            return Err(ExportError::invalid(format!(
                "Fleetward supports DirectPut delivery streams only, not {kind}."
            )));
        }
        if f.has("DeliveryStreamEncryptionConfigurationInput") {
            return Err(ExportError::invalid(
                "Server-side encryption with KMS is not supported by Fleetward.",
            ));
        }
        let destination = Destination::from_create(&f)?;
        let tags = tags::read_tags(&f, "Tags", 0)?;
        let account = &caller.account_id;
        let _guard = self.lock().await;
        if self.get(account, name).is_ok() {
            return Err(ExportError::ResourceInUse(format!(
                "Firehose {name} under accountId {account} already exists"
            )));
        }
        if self.count(account) >= MAX_STREAMS {
            return Err(ExportError::LimitExceeded(format!(
                "You have already consumed your firehose quota of {MAX_STREAMS} hoses."
            )));
        }
        let now = self.now_ms();
        let doc = StreamDoc {
            name: name.to_string(),
            arn: fleetward_model::arn(
                "firehose",
                &self.region,
                account,
                &format!("deliverystream/{name}"),
            ),
            version_id: 1,
            created_ms: now,
            updated_ms: now,
            buffer_id: uuid::Uuid::new_v4().simple().to_string(),
            destination,
            tags,
        };
        if !self.store.insert_document(&document(account, &doc)).await? {
            return Err(ExportError::ResourceInUse(format!(
                "Firehose {name} under accountId {account} already exists"
            )));
        }
        let stream = match self.open_stream(account, doc.clone()) {
            Ok(s) => s,
            Err(e) => {
                // Nothing half-applied: the definition goes with the buffer that failed.
                let _ = self.store.delete_document(account, STREAM_KIND, name).await;
                return Err(e);
            }
        };
        self.insert(stream);
        tracing::info!(%account, stream = %name, "Delivery stream created.");
        Ok(json!({"DeliveryStreamARN": doc.arn}))
    }

    pub async fn handle_describe_delivery_stream(
        &self,
        caller: &Caller,
        input: &Value,
    ) -> ExportResult<Value> {
        let f = Fields::root(input)?;
        let name = f.required_string("DeliveryStreamName")?;
        f.int("Limit", 1, 10000)?;
        f.bounded_string("ExclusiveStartDestinationId", 1, 100)?;
        Ok(self.get(&caller.account_id, name)?.snapshot().describe())
    }

    pub async fn handle_list_delivery_streams(
        &self,
        caller: &Caller,
        input: &Value,
    ) -> ExportResult<Value> {
        let f = Fields::root(input)?;
        let limit = f.int("Limit", 1, 10000)?.unwrap_or(10) as usize;
        let kind = f.enum_value(
            "DeliveryStreamType",
            &[
                "DirectPut",
                "KinesisStreamAsSource",
                "MSKAsSource",
                "DatabaseAsSource",
            ],
        )?;
        let after = f.string("ExclusiveStartDeliveryStreamName")?;
        let mut names: Vec<String> = self
            .streams
            .read()
            .map(|m| {
                m.keys()
                    .filter(|(a, _)| *a == caller.account_id)
                    .map(|(_, n)| n.clone())
                    .collect()
            })
            .unwrap_or_default();
        if kind.is_some_and(|k| k != "DirectPut") {
            names.clear();
        }
        names.sort();
        let names: Vec<String> = names
            .into_iter()
            .filter(|n| after.is_none_or(|a| n.as_str() > a))
            .collect();
        let more = names.len() > limit;
        let page: Vec<&String> = names.iter().take(limit).collect();
        Ok(json!({"DeliveryStreamNames": page, "HasMoreDeliveryStreams": more}))
    }

    pub async fn handle_delete_delivery_stream(
        &self,
        caller: &Caller,
        input: &Value,
    ) -> ExportResult<Value> {
        let f = Fields::root(input)?;
        let name = f.required_string("DeliveryStreamName")?;
        f.bool("AllowForceDelete")?;
        let account = &caller.account_id;
        let _guard = self.lock().await;
        let stream = self.get(account, name)?;
        self.store
            .delete_document(account, STREAM_KIND, name)
            .await?;
        if let Ok(mut map) = self.streams.write() {
            map.remove(&key(account, name));
        }
        stream.stop();
        let dir = stream.log.dir().to_path_buf();
        drop(stream);
        // Undelivered records go with the stream, as in AWS.
        if let Err(e) = tokio::fs::remove_dir_all(&dir).await {
            tracing::warn!(dir = %dir.display(), error = %e, "Could not remove a deleted stream's buffer.");
        }
        tracing::info!(%account, stream = %name, "Delivery stream deleted.");
        Ok(json!({}))
    }

    pub async fn handle_update_destination(
        &self,
        caller: &Caller,
        input: &Value,
    ) -> ExportResult<Value> {
        let f = Fields::root(input)?;
        let name = f.required_string("DeliveryStreamName")?;
        let version = f
            .bounded_string("CurrentDeliveryStreamVersionId", 1, 50)?
            .ok_or_else(|| f.missing("CurrentDeliveryStreamVersionId"))?;
        let destination_id = f
            .bounded_string("DestinationId", 1, 100)?
            .ok_or_else(|| f.missing("DestinationId"))?;
        let account = &caller.account_id;
        let _guard = self.lock().await;
        let stream = self.get(account, name)?;
        let mut doc = stream.snapshot();
        if version != doc.version_id.to_string() {
            return Err(ExportError::ConcurrentModification(format!(
                "Cannot update firehose: {name} since the current version id: {} and specified version id: {version} do not match",
                doc.version_id
            )));
        }
        if destination_id != crate::config::DESTINATION_ID {
            return Err(ExportError::invalid(format!(
                "Destination Id {destination_id} not found for firehose {name}."
            )));
        }
        doc.destination = doc.destination.updated(&f)?;
        doc.version_id += 1;
        doc.updated_ms = self.now_ms();
        self.save(account, &doc).await?;
        stream.set(doc);
        Ok(json!({}))
    }

    /// Stops every delivery worker (records stay in the buffers for the next start).
    pub fn stop(&self) {
        if let Ok(map) = self.streams.read() {
            for stream in map.values() {
                stream.stop();
            }
        }
    }
}

pub(crate) fn document(account: &str, doc: &StreamDoc) -> Document {
    Document {
        account_id: account.to_string(),
        kind: STREAM_KIND.to_string(),
        key: doc.name.clone(),
        body: serde_json::to_string(doc).unwrap_or_else(|_| "null".into()),
        created_ms: doc.created_ms,
        updated_ms: doc.updated_ms,
    }
}
