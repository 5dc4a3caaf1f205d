//! Authorizations per second on one thread for a typical fleet: three policies (device,
//! fleet-wide, deny guard-rails), a mix of allowed, implicitly and explicitly denied requests.
//!
//! `cargo run --release -p fleetward-policy --example policy_bench`

use std::hint::black_box;
use std::time::{Duration, Instant};

use fleetward_policy::{
    Action, AuthContext, ConnectContext, Effect, Policy, ThingContext, decide, write_arn,
};

const REGION: &str = "us-east-1";
const ACCOUNT: &str = "123456789012";
const DEVICES: usize = 1000;
const ROUNDS: usize = 3;

const DEVICE_POLICY: &str = r#"{"Version":"2012-10-17","Statement":[
  {"Effect":"Allow","Action":"iot:Connect",
   "Resource":"arn:aws:iot:us-east-1:123456789012:client/${iot:Connection.Thing.ThingName}",
   "Condition":{"Bool":{"iot:Connection.Thing.IsAttached":"true"}}},
  {"Effect":"Allow","Action":["iot:Publish","iot:Receive"],
   "Resource":["arn:aws:iot:us-east-1:123456789012:topic/things/${iot:Connection.Thing.ThingName}/*",
               "arn:aws:iot:us-east-1:123456789012:topic/$aws/things/${iot:Connection.Thing.ThingName}/shadow/*"],
   "Condition":{"StringEquals":{"iot:Connection.Thing.Attributes[fleet]":"blue"}}},
  {"Effect":"Allow","Action":"iot:Subscribe",
   "Resource":["arn:aws:iot:us-east-1:123456789012:topicfilter/things/${iot:Connection.Thing.ThingName}/*",
               "arn:aws:iot:us-east-1:123456789012:topicfilter/$aws/things/${iot:Connection.Thing.ThingName}/shadow/*"]}
]}"#;

const FLEET_POLICY: &str = r#"{"Version":"2012-10-17","Statement":[
  {"Effect":"Allow","Action":["iot:Subscribe","iot:Receive"],
   "Resource":["arn:aws:iot:us-east-1:123456789012:topicfilter/broadcast/*",
               "arn:aws:iot:us-east-1:123456789012:topic/broadcast/*"],
   "Condition":{"IpAddress":{"aws:SourceIp":["10.0.0.0/8","192.168.0.0/16"]}}},
  {"Effect":"Allow","Action":"iot:Publish",
   "Resource":"arn:aws:iot:us-east-1:123456789012:topic/telemetry/${iot:ClientId}"}
]}"#;

const GUARD_POLICY: &str = r#"{"Version":"2012-10-17","Statement":[
  {"Effect":"Deny","Action":["iot:Publish","iot:Subscribe"],
   "Resource":["arn:aws:iot:us-east-1:123456789012:topic/admin/*",
               "arn:aws:iot:us-east-1:123456789012:topicfilter/admin/*"]},
  {"Effect":"Deny","Action":"iot:Connect","Resource":"*",
   "Condition":{"ForAnyValue:StringEquals":{"iot:ConnectAttributes":"PersistentConnect"}}}
]}"#;

struct Device {
    name: String,
    attributes: Vec<(String, String)>,
    ip: std::net::IpAddr,
}

/// One request: action, the topic or client-id part of the ARN, and whether to use the
/// device's own identity.
const MIX: [(Action, &str, Effect); 10] = [
    (Action::Connect, "client/{me}", Effect::Allowed),
    (Action::Connect, "client/someone-else", Effect::ImplicitDeny),
    (
        Action::Publish,
        "topic/things/{me}/telemetry",
        Effect::Allowed,
    ),
    (
        Action::Publish,
        "topic/things/other/telemetry",
        Effect::ImplicitDeny,
    ),
    (
        Action::Subscribe,
        "topicfilter/things/{me}/cmd/#",
        Effect::Allowed,
    ),
    (
        Action::Receive,
        "topic/things/{me}/cmd/reboot",
        Effect::Allowed,
    ),
    (Action::Receive, "topic/broadcast/firmware", Effect::Allowed),
    (Action::Publish, "topic/admin/reset", Effect::ExplicitDeny),
    (
        Action::Publish,
        "topic/$aws/things/{me}/shadow/update",
        Effect::Allowed,
    ),
    (
        Action::RetainPublish,
        "topic/things/{me}/state",
        Effect::ImplicitDeny,
    ),
];

fn main() {
    let policies: Vec<Policy> = [DEVICE_POLICY, FLEET_POLICY, GUARD_POLICY]
        .iter()
        .map(|d| Policy::parse(d).expect("bench policy"))
        .collect();
    let devices: Vec<Device> = (0..DEVICES)
        .map(|i| Device {
            name: format!("sensor-{i:05}"),
            attributes: vec![
                (
                    "fleet".into(),
                    if i % 10 == 0 { "red" } else { "blue" }.into(),
                ),
                ("model".into(), "th-200".into()),
            ],
            ip: format!("10.{}.{}.{}", i / 65536, (i / 256) % 256, i % 256)
                .parse()
                .unwrap(),
        })
        .collect();

    // The gateway builds each ARN once per message; here they are built up front so the
    // figure is the decision alone. A second run includes the ARN formatting.
    let mut requests = Vec::new();
    for d in &devices {
        for (action, suffix, _) in MIX {
            let (kind, name) = suffix.split_once('/').unwrap();
            let name = name.replace("{me}", &d.name);
            let mut arn = String::new();
            write_arn(&mut arn, REGION, ACCOUNT, kind, &name);
            requests.push((d, action, arn, kind, name));
        }
    }
    let contexts: Vec<AuthContext<'_>> = devices
        .iter()
        .map(|d| AuthContext {
            client_id: Some(&d.name),
            thing: Some(ThingContext {
                name: &d.name,
                type_name: Some("sensor"),
                attributes: &d.attributes,
                is_attached: true,
            }),
            source_ip: Some(d.ip),
            ..AuthContext::new(REGION, ACCOUNT, 1_719_835_200_000)
        })
        .collect();
    let connect = ConnectContext {
        clean_session: true,
        keep_alive_secs: 60,
        ..ConnectContext::default()
    };

    let ctx_for = |i: usize, action: Action| {
        let ctx = contexts[i / MIX.len()];
        if action == Action::Connect {
            AuthContext {
                connect: Some(connect),
                ..ctx
            }
        } else {
            ctx
        }
    };

    let mut tally = [0usize; 3];
    for (i, (_, action, arn, _, _)) in requests.iter().enumerate() {
        let e = decide(&policies, *action, arn, &ctx_for(i, *action));
        tally[e as usize] += 1;
    }
    println!(
        "{} requests per round: {} allowed, {} explicitly denied, {} implicitly denied",
        requests.len(),
        tally[Effect::Allowed as usize],
        tally[Effect::ExplicitDeny as usize],
        tally[Effect::ImplicitDeny as usize]
    );

    let best = |run: &dyn Fn() -> usize| -> (f64, usize) {
        let mut best = Duration::MAX;
        let mut n = 0;
        for _ in 0..ROUNDS {
            let start = Instant::now();
            n = run();
            best = best.min(start.elapsed());
        }
        (n as f64 / best.as_secs_f64(), n)
    };

    let (rate, n) = best(&|| {
        let mut n = 0;
        for _ in 0..20 {
            for (i, (_, action, arn, _, _)) in requests.iter().enumerate() {
                black_box(decide(
                    &policies,
                    *action,
                    black_box(arn),
                    &ctx_for(i, *action),
                ));
                n += 1;
            }
        }
        n
    });
    println!(
        "decide:            {:>12.0} authorizations/s on one thread ({:.0} ns each, {n} per run, best of {ROUNDS})",
        rate,
        1e9 / rate
    );

    let (rate, n) = best(&|| {
        let mut n = 0;
        let mut arn = String::with_capacity(128);
        for _ in 0..20 {
            for (i, (_, action, _, kind, name)) in requests.iter().enumerate() {
                write_arn(&mut arn, REGION, ACCOUNT, kind, name);
                black_box(decide(&policies, *action, &arn, &ctx_for(i, *action)));
                n += 1;
            }
        }
        n
    });
    println!(
        "write_arn + decide: {:>12.0} authorizations/s on one thread ({:.0} ns each, {n} per run, best of {ROUNDS})",
        rate,
        1e9 / rate
    );
}
