"""Findings with boto3: BatchImportFindings, GetFindings (filters, sorting, paging),
BatchUpdateFindings, UpdateFindings, GetFindingHistory and the service-populated fields."""

from __future__ import annotations

import datetime as dt
import json
import time

import pytest

from support import (
    DD_AUDIT_ARN,
    DD_DETECT_ARN,
    DEFAULT_ACCOUNT,
    REGION,
    ago,
    dd_audit_finding,
    dd_audit_summary_finding,
    dd_detect_finding,
    default_product_arn,
    expect_error,
    get_all_findings,
    get_one,
    ident,
    import_findings,
    iso_ms,
    key_of,
    new_tag,
    parse_ts,
    prowler_finding,
    same_instant,
    scope,
    utcnow,
    wait_until,
    with_scope,
)

ACCT = DEFAULT_ACCOUNT
OWN = default_product_arn(ACCT)


def ids(findings):
    return sorted(f["Id"] for f in findings)


# --------------------------------------------------------------------------------------------
# BatchImportFindings


def test_import_stores_findings_with_service_fields(hub, tag):
    audit = dd_audit_finding(ACCT, tag)
    detect = dd_detect_finding(ACCT, tag, thing=f"thing-{tag}")
    resp = hub.batch_import_findings(Findings=[audit, detect])
    assert resp["SuccessCount"] == 2 and resp["FailedCount"] == 0, resp
    assert resp.get("FailedFindings", []) == [], resp

    got = {f["Id"]: f for f in get_all_findings(hub, scope(tag))}
    assert set(got) == {audit["Id"], detect["Id"]}
    a = got[audit["Id"]]
    assert a["ProductArn"] == DD_AUDIT_ARN
    assert a["ProductName"] == "IoT Device Defender - Audit"
    assert a["CompanyName"] == "AWS"
    assert a["Region"] == REGION
    assert a["AwsAccountId"] == ACCT
    assert a["RecordState"] == "ACTIVE"
    assert a["Workflow"] == {"Status": "NEW"}
    assert a["WorkflowState"] == "NEW"
    assert a["Severity"]["Label"] == "CRITICAL"
    assert a["Severity"]["Normalized"] == 90
    assert a["Title"] == audit["Title"] and a["Description"] == audit["Description"]
    assert a["Types"] == audit["Types"]
    assert a["Resources"] == audit["Resources"]
    assert same_instant(a["CreatedAt"], audit["CreatedAt"]) and same_instant(a["UpdatedAt"], audit["UpdatedAt"])
    processed = parse_ts(a["ProcessedAt"])
    assert abs((utcnow() - processed).total_seconds()) < 120, a["ProcessedAt"]
    # FindingProviderFields mirror the provider's top-level Severity and Types.
    assert a["FindingProviderFields"]["Severity"]["Label"] == "CRITICAL"
    assert a["FindingProviderFields"]["Types"] == audit["Types"]
    d = got[detect["Id"]]
    assert d["ProductName"] == "IoT Device Defender - Detect" and d["CompanyName"] == "AWS"
    assert d["Severity"] == {**d["Severity"], "Label": "MEDIUM", "Normalized": 40}


def test_product_fields_injected(hub, tag):
    audit = dd_audit_finding(ACCT, tag)
    own = prowler_finding(ACCT, tag, product_arn=OWN)
    renamed = prowler_finding(ACCT, tag, check="iam_root_mfa_enabled", product_arn=OWN,
                              ProductName="DecoyDetector", CompanyName="Honeypots Inc")
    import_findings(hub, [audit, own, renamed])

    a = get_one(hub, audit)
    pf = a["ProductFields"]
    assert pf["aws/securityhub/FindingId"] == f"{DD_AUDIT_ARN}/{audit['Id']}"
    assert pf["aws/securityhub/ProductName"] == "IoT Device Defender - Audit"
    assert pf["aws/securityhub/CompanyName"] == "AWS"
    for key, value in audit["ProductFields"].items():  # the provider's own fields are kept
        assert pf[key] == value, key

    o = get_one(hub, own)
    assert o["ProductName"] == "Default" and o["CompanyName"] == "Personal"
    assert o["ProductFields"]["aws/securityhub/ProductName"] == "Default"
    assert o["ProductFields"]["aws/securityhub/CompanyName"] == "Personal"
    assert o["ProductFields"]["aws/securityhub/FindingId"] == f"{OWN}/{own['Id']}"
    assert o["ProductFields"]["ProviderName"] == "Prowler"

    # A custom integration may name itself; the registry names stay in ProductFields.
    r = get_one(hub, renamed)
    assert r["ProductName"] == "DecoyDetector" and r["CompanyName"] == "Honeypots Inc"
    assert r["ProductFields"]["aws/securityhub/ProductName"] == "Default"
    assert r["ProductFields"]["aws/securityhub/CompanyName"] == "Personal"


def test_partial_failure_names_the_field(hub_raw, hub, tag):
    good1 = dd_audit_finding(ACCT, tag, policy=f"good1-{tag}")
    good2 = dd_detect_finding(ACCT, tag)
    no_title = dd_audit_finding(ACCT, tag, policy=f"notitle-{tag}", Title=None)
    bad_label = dd_audit_finding(ACCT, tag, policy=f"badlabel-{tag}", severity="SEVERE")
    no_severity = dd_audit_finding(ACCT, tag, policy=f"nosev-{tag}", Severity=None)
    no_resources = dd_audit_finding(ACCT, tag, policy=f"nores-{tag}", Resources=[])
    bad_time = dd_audit_finding(ACCT, tag, policy=f"badtime-{tag}", CreatedAt="yesterday")
    long_title = dd_audit_finding(ACCT, tag, policy=f"longtitle-{tag}", Title="x" * 257)
    batch = [good1, no_title, bad_label, good2, no_severity, no_resources, bad_time, long_title]

    resp = hub_raw.batch_import_findings(Findings=batch)
    assert resp["SuccessCount"] == 2, resp
    assert resp["FailedCount"] == 6, resp
    failed = {f["Id"]: f for f in resp["FailedFindings"]}
    expected_field = {
        no_title["Id"]: "Title",
        bad_label["Id"]: "Severity",
        no_severity["Id"]: None,
        no_resources["Id"]: "Resources",
        bad_time["Id"]: "CreatedAt",
        long_title["Id"]: "Title",
    }
    assert set(failed) == set(expected_field), resp["FailedFindings"]
    for finding_id, field in expected_field.items():
        entry = failed[finding_id]
        assert entry["ErrorCode"] == "InvalidInput", entry
        assert entry.get("ErrorMessage"), entry
        if field:
            assert field in entry["ErrorMessage"], entry
    assert ids(get_all_findings(hub, scope(tag))) == sorted([good1["Id"], good2["Id"]])


def test_more_than_100_findings_is_invalid_input(hub_raw, hub, tag):
    batch = [dd_detect_finding(ACCT, tag) for _ in range(101)]
    expect_error(hub_raw.batch_import_findings, "InvalidInputException", 400, Findings=batch)
    assert get_all_findings(hub, scope(tag)) == []


def test_empty_batch_is_invalid_input(hub_raw):
    expect_error(hub_raw.batch_import_findings, "InvalidInputException", 400, Findings=[])


def test_foreign_account_id_denies_whole_request(hub, tag):
    mine = dd_detect_finding(ACCT, tag)
    foreign = dd_detect_finding("999999999999", tag)
    expect_error(hub.batch_import_findings, "AccessDeniedException", 403, Findings=[mine, foreign])
    assert get_all_findings(hub, scope(tag)) == [], "a refused request must not be half-applied"


def test_stale_or_equal_updated_at_is_ignored(hub, tag):
    t0 = ago(hours=2)
    original = dd_audit_finding(ACCT, tag, created=t0)
    import_findings(hub, [original])

    older = dict(original, UpdatedAt=iso_ms(t0 - dt.timedelta(hours=1)), Title="STALE TITLE")
    resp = hub.batch_import_findings(Findings=[older])
    assert resp["SuccessCount"] + resp["FailedCount"] == 1
    same = dict(original, Title="SAME-TIMESTAMP TITLE", Severity={"Label": "LOW"})
    hub.batch_import_findings(Findings=[same])

    got = get_one(hub, original)
    assert got["Title"] == original["Title"]
    assert got["Severity"]["Label"] == "CRITICAL"
    assert same_instant(got["UpdatedAt"], original["UpdatedAt"])


def test_newer_updated_at_updates(hub, tag):
    t0 = ago(hours=3)
    original = dd_audit_finding(ACCT, tag, created=t0)
    import_findings(hub, [original])
    newer = dict(original, UpdatedAt=iso_ms(t0 + dt.timedelta(hours=1)), Title="Policy still overly permissive",
                 Severity={"Label": "LOW"}, RecordState="ARCHIVED")
    import_findings(hub, [newer])

    got = get_one(hub, original)
    assert got["Title"] == "Policy still overly permissive"
    assert got["Severity"]["Label"] == "LOW" and got["Severity"]["Normalized"] == 1
    assert got["RecordState"] == "ARCHIVED"
    assert same_instant(got["UpdatedAt"], newer["UpdatedAt"])
    assert same_instant(got["CreatedAt"], original["CreatedAt"])
    assert len(get_all_findings(hub, scope(tag))) == 1, "an update must not create a second finding"


def test_provider_sets_customer_fields_only_on_creation(hub, tag):
    t0 = ago(hours=2)
    first = dd_detect_finding(ACCT, tag, created=t0, Workflow={"Status": "SUPPRESSED"},
                              VerificationState="BENIGN_POSITIVE",
                              Note={"Text": "known test device", "UpdatedBy": "dd-integration", "UpdatedAt": iso_ms(t0)},
                              UserDefinedFields={"fleet": "lab"})
    import_findings(hub, [first])
    got = get_one(hub, first)
    assert got["Workflow"]["Status"] == "SUPPRESSED"
    assert got["VerificationState"] == "BENIGN_POSITIVE"
    assert got["Note"]["Text"] == "known test device"
    assert got["UserDefinedFields"] == {"fleet": "lab"}

    later = dict(first, UpdatedAt=iso_ms(t0 + dt.timedelta(minutes=30)), Workflow={"Status": "NEW"},
                 VerificationState="UNKNOWN", UserDefinedFields={"fleet": "prod"},
                 Note={"Text": "provider overwrite", "UpdatedBy": "dd-integration", "UpdatedAt": iso_ms(t0)},
                 Title="Registered thing is still in alarm")
    import_findings(hub, [later])
    got = get_one(hub, first)
    assert got["Title"] == "Registered thing is still in alarm"
    assert got["Workflow"]["Status"] == "SUPPRESSED"
    assert got["VerificationState"] == "BENIGN_POSITIVE"
    assert got["Note"]["Text"] == "known test device"
    assert got["UserDefinedFields"] == {"fleet": "lab"}


def test_customer_workflow_not_overwritten_by_reimport(hub, tag):
    t0 = ago(hours=2)
    original = dd_audit_finding(ACCT, tag, created=t0)
    import_findings(hub, [original])
    resp = hub.batch_update_findings(
        FindingIdentifiers=[ident(original)],
        Workflow={"Status": "NOTIFIED"},
        Note={"Text": "Ticket SEC-42 opened", "UpdatedBy": "analyst"},
        UserDefinedFields={"ticket": "SEC-42"},
        VerificationState="TRUE_POSITIVE",
    )
    assert resp["UnprocessedFindings"] == [], resp

    resend = dict(original, UpdatedAt=iso_ms(t0 + dt.timedelta(hours=1)), Workflow={"Status": "NEW"},
                  Title="IOT_POLICY_OVERLY_PERMISSIVE_CHECK: still non-compliant",
                  UserDefinedFields={"ticket": "overwritten"}, VerificationState="UNKNOWN",
                  Note={"Text": "provider note", "UpdatedBy": "dd", "UpdatedAt": iso_ms(t0)})
    import_findings(hub, [resend])
    got = get_one(hub, original)
    assert got["Title"] == resend["Title"], "the provider's update must apply"
    assert got["Workflow"]["Status"] == "NOTIFIED"
    assert got["Note"]["Text"] == "Ticket SEC-42 opened" and got["Note"]["UpdatedBy"] == "analyst"
    assert got["UserDefinedFields"].get("ticket") == "SEC-42"
    assert got["VerificationState"] == "TRUE_POSITIVE"


def test_customer_severity_survives_provider_update(hub, tag):
    t0 = ago(hours=2)
    original = dd_audit_finding(ACCT, tag, created=t0, severity="HIGH")
    import_findings(hub, [original])
    hub.batch_update_findings(FindingIdentifiers=[ident(original)], Severity={"Label": "LOW"})
    import_findings(hub, [dict(original, UpdatedAt=iso_ms(t0 + dt.timedelta(hours=1)), Severity={"Label": "CRITICAL"})])
    got = get_one(hub, original)
    assert got["Severity"]["Label"] == "LOW", "a customer-set Severity must not be overwritten by the provider"
    assert got["FindingProviderFields"]["Severity"]["Label"] == "CRITICAL"


@pytest.mark.parametrize(
    "normalized,label",
    [(0, "INFORMATIONAL"), (1, "LOW"), (39, "LOW"), (40, "MEDIUM"), (69, "MEDIUM"),
     (70, "HIGH"), (89, "HIGH"), (90, "CRITICAL"), (100, "CRITICAL")],
)
def test_severity_label_derived_from_normalized(hub, tag, normalized, label):
    f = dd_detect_finding(ACCT, tag, severity={"Normalized": normalized, "Original": str(normalized)})
    import_findings(hub, [f])
    got = get_one(hub, f)
    assert got["Severity"]["Label"] == label
    assert got["Severity"]["Normalized"] == normalized
    assert got["Severity"]["Original"] == str(normalized)


@pytest.mark.parametrize("label,normalized",
                         [("INFORMATIONAL", 0), ("LOW", 1), ("MEDIUM", 40), ("HIGH", 70), ("CRITICAL", 90)])
def test_severity_normalized_derived_from_label(hub, tag, label, normalized):
    f = dd_detect_finding(ACCT, tag, severity=label)
    import_findings(hub, [f])
    severity = get_one(hub, f)["Severity"]
    assert (severity["Label"], severity.get("Normalized")) == (label, normalized), severity


def test_timestamps_rounded_to_milliseconds(hub, tag):
    day = ago(days=1).strftime("%Y-%m-%d")
    f = dd_detect_finding(ACCT, tag, CreatedAt=f"{day}T23:00:00.123456789Z",
                          UpdatedAt=f"{day}T23:00:00.123456789Z",
                          FirstObservedAt=f"{day}T22:59:00.5Z",
                          LastObservedAt=f"{day}T23:00:00.123456Z")
    import_findings(hub, [f])
    got = get_one(hub, f)
    assert got["CreatedAt"] == f"{day}T23:00:00.123Z"
    assert got["UpdatedAt"] == f"{day}T23:00:00.123Z"
    assert got["FirstObservedAt"] == f"{day}T22:59:00.500Z"
    assert got["LastObservedAt"] == f"{day}T23:00:00.123Z"
    # The stored value is the rounded instant: an exact DateFilter on it matches.
    hits = hub.get_findings(Filters=with_scope(tag, {"CreatedAt": [{"Start": f"{day}T23:00:00.123Z",
                                                                     "End": f"{day}T23:00:00.123Z"}]}))
    assert ids(hits["Findings"]) == [f["Id"]]


# --------------------------------------------------------------------------------------------
# GetFindings filters over a fixed corpus


@pytest.fixture(scope="module")
def corpus(hub):
    tag = new_tag()
    ec2_arn = f"arn:aws:ec2:{REGION}:{ACCT}:instance/i-0abc{tag}"
    f = {
        "audit_policy": dd_audit_finding(ACCT, tag, severity="CRITICAL", created=ago(days=50),
                                         Confidence=90, Criticality=80, Sample=False),
        "audit_summary": dd_audit_summary_finding(ACCT, tag, severity={"Normalized": 75}, created=ago(days=40),
                                                  Confidence=50, Criticality=40, Sample=False),
        "detect_thing": dd_detect_finding(ACCT, tag, thing=f"thing-{tag}", severity="MEDIUM",
                                          created=ago(days=30), Confidence=30, Sample=False),
        "prowler_ec2": prowler_finding(ACCT, tag, product_arn=OWN, resource_id=ec2_arn, severity="LOW",
                                       created=ago(days=20), Criticality=50, Sample=False,
                                       Network={"Direction": "IN", "Protocol": "TCP",
                                                "SourceIpV4": "203.0.113.7", "SourcePort": 51515,
                                                "DestinationIpV4": "10.0.1.15", "DestinationPort": 22}),
        "prowler_s3": prowler_finding(ACCT, tag, check="s3_bucket_level_public_access_block", product_arn=OWN,
                                      resource_type="AwsS3Bucket", resource_id=f"arn:aws:s3:::logs-a-{tag}",
                                      status="PASSED", severity="INFORMATIONAL", created=ago(days=10),
                                      Sample=True, UserDefinedFields={"team": "storage"},
                                      Types=["Effects/Data Exposure"],
                                      Title="Ensure that S3 buckets have a public access block."),
        "detect_archived": dd_detect_finding(ACCT, tag, thing=f"other-{tag}", severity="HIGH",
                                             created=ago(hours=1), RecordState="ARCHIVED", Sample=False),
    }
    f["detect_thing"]["Resources"][0]["Tags"] = {"env": "prod"}
    ec2 = f["prowler_ec2"]["Resources"][0]
    ec2["Tags"] = {"env": "dev"}
    ec2["Details"] = {"AwsEc2Instance": {"Type": "t3.micro", "ImageId": "ami-0abcdef1234567890",
                                         "IpV4Addresses": ["10.0.1.15", "54.210.1.2"],
                                         "VpcId": "vpc-0a1b2c3d", "SubnetId": "subnet-0a1b2c3d"}}
    f["prowler_s3"]["Resources"].append(
        {"Type": "AwsS3Bucket", "Id": f"arn:aws:s3:::logs-b-{tag}", "Partition": "aws", "Region": REGION})
    import_findings(hub, list(f.values()))
    return tag, f


ALL = ["audit_policy", "audit_summary", "detect_thing", "prowler_ec2", "prowler_s3", "detect_archived"]


def _filter_cases():
    def s(value, comparison="EQUALS"):
        return {"Value": value, "Comparison": comparison}

    days = lambda n: iso_ms(ago(days=n))  # noqa: E731 - evaluated when the test runs
    return [
        ("string-equals", lambda c: {"SeverityLabel": [s("CRITICAL")]}, ["audit_policy"]),
        ("string-equals-or", lambda c: {"SeverityLabel": [s("HIGH"), s("MEDIUM")]},
         ["audit_summary", "detect_thing", "detect_archived"]),
        ("string-prefix", lambda c: {"ProductArn": [s("arn:aws:securityhub:us-east-1::product/aws/iot-device-defender", "PREFIX")]},
         ["audit_policy", "audit_summary", "detect_thing", "detect_archived"]),
        ("string-not-equals-any-element", lambda c: {"ResourceType": [s("AwsS3Bucket", "NOT_EQUALS")]},
         ["audit_policy", "audit_summary", "detect_thing", "prowler_ec2", "detect_archived"]),
        ("string-not-equals-and", lambda c: {"SeverityLabel": [s("HIGH", "NOT_EQUALS"), s("LOW", "NOT_EQUALS")]},
         ["audit_policy", "detect_thing", "prowler_s3"]),
        ("prefix-minus-not-equals", lambda c: {"ResourceType": [s("AwsIot", "PREFIX"), s("AwsIotAuditTask", "NOT_EQUALS")]},
         ["audit_policy", "detect_thing", "detect_archived"]),
        ("prefix-not-equals", lambda c: {"Type": [s("Software and Configuration Check", "PREFIX_NOT_EQUALS")]},
         ["detect_thing", "prowler_s3", "detect_archived"]),
        ("type-equals", lambda c: {"Type": [s("Unusual Behaviors")]}, ["detect_thing", "detect_archived"]),
        ("case-sensitive", lambda c: {"ProductName": [s("iot device defender - audit")]}, []),
        ("product-name", lambda c: {"ProductName": [s("IoT Device Defender - Detect")]}, ["detect_thing", "detect_archived"]),
        ("company-name", lambda c: {"CompanyName": [s("Personal")]}, ["prowler_ec2", "prowler_s3"]),
        ("resource-id-any-element", lambda c: {"ResourceId": [s(c["prowler_s3"]["Resources"][1]["Id"])]}, ["prowler_s3"]),
        ("id-equals", lambda c: {"Id": [s(c["audit_summary"]["Id"])]}, ["audit_summary"]),
        ("record-state", lambda c: {"RecordState": [s("ARCHIVED")]}, ["detect_archived"]),
        ("workflow-status", lambda c: {"WorkflowStatus": [s("NEW")]}, ALL),
        ("compliance-status", lambda c: {"ComplianceStatus": [s("FAILED")]}, ["prowler_ec2"]),
        ("fpf-severity-label", lambda c: {"FindingProviderFieldsSeverityLabel": [s("CRITICAL")]}, ["audit_policy"]),
        ("ec2-instance-type", lambda c: {"ResourceAwsEc2InstanceType": [s("t3.micro")]}, ["prowler_ec2"]),
        ("and-across-fields", lambda c: {"ProductName": [s("IoT Device Defender - Detect")], "RecordState": [s("ACTIVE")]},
         ["detect_thing"]),
        ("and-empty", lambda c: {"SeverityLabel": [s("CRITICAL")], "Confidence": [{"Eq": 50}]}, []),
        ("number-gte", lambda c: {"SeverityNormalized": [{"Gte": 70}]}, ["audit_policy", "audit_summary", "detect_archived"]),
        ("number-range", lambda c: {"Confidence": [{"Gte": 40, "Lte": 60}]}, ["audit_summary"]),
        ("number-eq", lambda c: {"Confidence": [{"Eq": 90}]}, ["audit_policy"]),
        ("number-gt", lambda c: {"Criticality": [{"Gt": 50}]}, ["audit_policy"]),
        ("number-lt", lambda c: {"SeverityNormalized": [{"Lt": 1}]}, ["prowler_s3"]),
        ("date-start-end", lambda c: {"CreatedAt": [{"Start": days(35), "End": days(15)}]}, ["detect_thing", "prowler_ec2"]),
        ("date-range-within", lambda c: {"UpdatedAt": [{"DateRange": {"Value": 1, "Unit": "DAYS"}}]}, ["detect_archived"]),
        ("date-range-within-15", lambda c: {"UpdatedAt": [{"DateRange": {"Value": 15, "Unit": "DAYS", "Comparison": "WITHIN"}}]},
         ["prowler_s3", "detect_archived"]),
        ("date-range-older-than", lambda c: {"CreatedAt": [{"DateRange": {"Value": 25, "Unit": "DAYS", "Comparison": "OLDER_THAN"}}]},
         ["audit_policy", "audit_summary", "detect_thing"]),
        ("map-resource-tags", lambda c: {"ResourceTags": [{"Key": "env", "Value": "prod", "Comparison": "EQUALS"}]}, ["detect_thing"]),
        ("map-product-fields", lambda c: {"ProductFields": [{"Key": "CheckName", "Value": "IOT_POLICY_OVERLY_PERMISSIVE_CHECK", "Comparison": "EQUALS"}]},
         ["audit_policy"]),
        ("map-details-other", lambda c: {"ResourceDetailsOther": [{"Key": "IsRegisteredThing", "Value": "true", "Comparison": "EQUALS"}]},
         ["detect_thing", "detect_archived"]),
        ("map-user-defined", lambda c: {"UserDefinedFields": [{"Key": "team", "Value": "storage", "Comparison": "EQUALS"}]}, ["prowler_s3"]),
        ("ip-network-source", lambda c: {"NetworkSourceIpV4": [{"Cidr": "203.0.113.0/24"}]}, ["prowler_ec2"]),
        ("ip-ec2-addresses", lambda c: {"ResourceAwsEc2InstanceIpV4Addresses": [{"Cidr": "10.0.0.0/16"}]}, ["prowler_ec2"]),
        ("ip-single-host", lambda c: {"ResourceAwsEc2InstanceIpV4Addresses": [{"Cidr": "54.210.1.2/32"}]}, ["prowler_ec2"]),
        ("ip-no-match", lambda c: {"NetworkSourceIpV4": [{"Cidr": "192.168.0.0/16"}]}, []),
        ("boolean-sample-true", lambda c: {"Sample": [{"Value": True}]}, ["prowler_s3"]),
        ("boolean-sample-false", lambda c: {"Sample": [{"Value": False}]},
         ["audit_policy", "audit_summary", "detect_thing", "prowler_ec2", "detect_archived"]),
        ("no-filter-includes-archived", lambda c: {}, ALL),
    ]


@pytest.mark.parametrize("name,make_filters,expected", _filter_cases(), ids=[c[0] for c in _filter_cases()])
def test_get_findings_filter(hub, corpus, name, make_filters, expected):
    tag, findings = corpus
    filters = with_scope(tag, make_filters(findings))
    got = get_all_findings(hub, filters)
    want = sorted(findings[n]["Id"] for n in expected)
    names = {f["Id"]: n for n, f in findings.items()}
    assert ids(got) == want, (
        f"filter {json.dumps(filters)}\n expected {sorted(expected)}\n got {sorted(names.get(i, i) for i in ids(got))}"
    )


def _order(hub, tag, findings, sort):
    got = hub.get_findings(Filters=scope(tag), **({"SortCriteria": sort} if sort else {}))["Findings"]
    names = {f["Id"]: n for n, f in findings.items()}
    return [names[f["Id"]] for f in got]


def test_default_sort_is_updated_at_desc(hub, corpus):
    tag, findings = corpus
    assert _order(hub, tag, findings, None) == ["detect_archived", "prowler_s3", "prowler_ec2", "detect_thing",
                                                "audit_summary", "audit_policy"]


@pytest.mark.parametrize(
    "sort,expected",
    [
        ([{"Field": "SeverityNormalized", "SortOrder": "desc"}],
         ["audit_policy", "audit_summary", "detect_archived", "detect_thing", "prowler_ec2", "prowler_s3"]),
        ([{"Field": "CreatedAt", "SortOrder": "asc"}],
         ["audit_policy", "audit_summary", "detect_thing", "prowler_ec2", "prowler_s3", "detect_archived"]),
        ([{"Field": "Title", "SortOrder": "asc"}],
         ["audit_summary", "prowler_ec2", "prowler_s3", "audit_policy", "detect_archived", "detect_thing"]),
        ([{"Field": "ProductName", "SortOrder": "asc"}, {"Field": "CreatedAt", "SortOrder": "desc"}],
         ["prowler_s3", "prowler_ec2", "audit_summary", "audit_policy", "detect_archived", "detect_thing"]),
    ],
    ids=["severity-desc", "created-asc", "title-asc", "two-keys"],
)
def test_sort_criteria(hub, corpus, sort, expected):
    tag, findings = corpus
    assert _order(hub, tag, findings, sort) == expected


# --------------------------------------------------------------------------------------------
# Paging


def test_paginator_250_findings(hub, tag):
    when = ago(minutes=10)  # one scan: every finding has the same timestamps (ties must page stably)
    batch = [prowler_finding(ACCT, tag, product_arn=OWN, created=when,
                             resource_id=f"arn:aws:ec2:{REGION}:{ACCT}:instance/i-{n:017x}",
                             Title=f"Instance {n:03d} exposes SSH") for n in range(250)]
    import_findings(hub, batch)

    pages = list(hub.get_paginator("get_findings").paginate(Filters=scope(tag), PaginationConfig={"PageSize": 100}))
    assert [len(p["Findings"]) for p in pages] == [100, 100, 50]
    assert all(p.get("NextToken") for p in pages[:-1]) and not pages[-1].get("NextToken")
    seen = [f["Id"] for p in pages for f in p["Findings"]]
    assert len(seen) == len(set(seen)) == 250
    assert set(seen) == {f["Id"] for f in batch}

    # Sorted paging yields one globally sorted sequence.
    titled = list(hub.get_paginator("get_findings").paginate(
        Filters=scope(tag), SortCriteria=[{"Field": "Title", "SortOrder": "asc"}],
        PaginationConfig={"PageSize": 100}))
    titles = [f["Title"] for p in titled for f in p["Findings"]]
    assert titles == sorted(f["Title"] for f in batch)


def test_paging_is_stable_when_findings_arrive_between_pages(hub, tag):
    when = ago(minutes=30)
    originals = [dd_detect_finding(ACCT, tag, created=when) for _ in range(120)]
    import_findings(hub, originals)

    first = hub.get_findings(Filters=scope(tag), MaxResults=50)
    assert len(first["Findings"]) == 50 and first.get("NextToken")
    newer = [dd_detect_finding(ACCT, tag, created=ago(minutes=1)) for _ in range(20)]
    older = [dd_detect_finding(ACCT, tag, created=ago(hours=5)) for _ in range(10)]
    import_findings(hub, newer + older)

    seen = [f["Id"] for f in first["Findings"]]
    token = first["NextToken"]
    for _ in range(10):
        page = hub.get_findings(Filters=scope(tag), MaxResults=50, NextToken=token)
        seen += [f["Id"] for f in page["Findings"]]
        token = page.get("NextToken")
        if not token:
            break
    assert not token, "paging did not end"
    dupes = {i for i in seen if seen.count(i) > 1}
    assert not dupes, f"{len(dupes)} findings were returned twice"
    missing = {f["Id"] for f in originals} - set(seen)
    assert not missing, f"{len(missing)} findings present before paging started were skipped"


def test_max_results_over_100_is_invalid(hub_raw):
    expect_error(hub_raw.get_findings, "InvalidInputException", 400, MaxResults=101)


def test_max_results_zero_is_invalid(hub_raw):
    expect_error(hub_raw.get_findings, "InvalidInputException", 400, MaxResults=0)


def test_garbage_next_token_is_invalid(hub):
    expect_error(hub.get_findings, "InvalidInputException", 400, NextToken="not-a-token")


# --------------------------------------------------------------------------------------------
# BatchUpdateFindings, UpdateFindings, GetFindingHistory


def test_batch_update_findings(hub, tag):
    a = dd_audit_finding(ACCT, tag, severity="HIGH")
    b = dd_detect_finding(ACCT, tag)
    import_findings(hub, [a, b])
    before = get_one(hub, a)
    missing = {"Id": f"no-such-finding-{tag}", "ProductArn": DD_AUDIT_ARN}
    wrong_product = {"Id": a["Id"], "ProductArn": DD_DETECT_ARN}

    resp = hub.batch_update_findings(
        FindingIdentifiers=[ident(a), ident(b), missing, wrong_product],
        Workflow={"Status": "NOTIFIED"},
        Note={"Text": "Owner paged via on-call", "UpdatedBy": "analyst@example.com"},
        Severity={"Normalized": 45},
        UserDefinedFields={"ticket": "SEC-1"},
        VerificationState="TRUE_POSITIVE",
        Confidence=77,
        Criticality=33,
        Types=["Software and Configuration Checks/Vulnerabilities"],
    )
    processed = sorted((p["ProductArn"], p["Id"]) for p in resp["ProcessedFindings"])
    assert processed == sorted([key_of(a), key_of(b)]), resp
    unprocessed = {(u["FindingIdentifier"]["ProductArn"], u["FindingIdentifier"]["Id"]): u for u in resp["UnprocessedFindings"]}
    assert set(unprocessed) == {key_of(missing), key_of(wrong_product)}, resp
    for entry in unprocessed.values():
        assert entry["ErrorCode"] == "FindingNotFound", entry
        assert entry["ErrorMessage"] == "Finding Not Found", entry

    got = get_one(hub, a)
    assert got["Workflow"]["Status"] == "NOTIFIED"
    assert got["Note"]["Text"] == "Owner paged via on-call" and got["Note"]["UpdatedBy"] == "analyst@example.com"
    assert abs((utcnow() - parse_ts(got["Note"]["UpdatedAt"])).total_seconds()) < 120
    assert got["Severity"]["Normalized"] == 45 and got["Severity"]["Label"] == "MEDIUM"
    assert got["UserDefinedFields"] == {"ticket": "SEC-1"}
    assert got["VerificationState"] == "TRUE_POSITIVE"
    assert got["Confidence"] == 77 and got["Criticality"] == 33
    assert got["Types"] == ["Software and Configuration Checks/Vulnerabilities"]
    # BatchUpdateFindings never touches UpdatedAt or the provider's fields.
    assert got["UpdatedAt"] == before["UpdatedAt"]
    assert got["FindingProviderFields"]["Severity"]["Label"] == "HIGH"
    assert got["FindingProviderFields"]["Types"] == a["Types"]
    assert get_one(hub, b)["Workflow"]["Status"] == "NOTIFIED"

    filtered = get_all_findings(hub, with_scope(tag, {"WorkflowStatus": [{"Value": "NOTIFIED", "Comparison": "EQUALS"}],
                                                      "NoteText": [{"Value": "Owner paged", "Comparison": "PREFIX"}]}))
    assert ids(filtered) == sorted([a["Id"], b["Id"]])


def test_batch_update_duplicated_identifier(hub, tag):
    a = dd_audit_finding(ACCT, tag)
    import_findings(hub, [a])
    resp = hub.batch_update_findings(FindingIdentifiers=[ident(a), ident(a)], Workflow={"Status": "RESOLVED"})
    codes = [(u["FindingIdentifier"]["Id"], u["ErrorCode"]) for u in resp["UnprocessedFindings"]]
    assert (a["Id"], "DuplicatedFindingIdentifier") in codes, resp
    dup = next(u for u in resp["UnprocessedFindings"] if u["ErrorCode"] == "DuplicatedFindingIdentifier")
    assert dup["ErrorMessage"] == "Finding Identifier is duplicated", dup


def test_batch_update_over_100_identifiers_is_invalid(hub_raw):
    identifiers = [{"Id": f"f-{n}", "ProductArn": OWN} for n in range(101)]
    expect_error(hub_raw.batch_update_findings, "InvalidInputException", 400,
                 FindingIdentifiers=identifiers, Workflow={"Status": "RESOLVED"})


def test_batch_update_bad_workflow_is_invalid(hub_raw, hub, tag):
    a = dd_audit_finding(ACCT, tag)
    import_findings(hub, [a])
    expect_error(hub_raw.batch_update_findings, "InvalidInputException", 400,
                 FindingIdentifiers=[ident(a)], Workflow={"Status": "DONE"})
    expect_error(hub_raw.batch_update_findings, "InvalidInputException", 400,
                 FindingIdentifiers=[ident(a)], Note={"Text": "x" * 513, "UpdatedBy": "me"})
    expect_error(hub_raw.batch_update_findings, "InvalidInputException", 400,
                 FindingIdentifiers=[ident(a)], Confidence=101)
    got = get_one(hub, a)
    assert got["Workflow"]["Status"] == "NEW" and "Note" not in got and "Confidence" not in got


def _history(hub, finding):
    records = []
    for page in hub.get_paginator("get_finding_history").paginate(FindingIdentifier=ident(finding)):
        records.extend(page["Records"])
    return sorted(records, key=lambda r: r["UpdateTime"])


def _field_changes(record):
    return {u["UpdatedField"]: u for u in record.get("Updates", [])}


def _json_or_raw(value, expected):
    return value == expected or value == json.dumps(expected)


def test_finding_history(hub, tag):
    t0 = ago(hours=2)
    f = dd_audit_finding(ACCT, tag, created=t0)
    import_findings(hub, [f])
    time.sleep(0.02)
    hub.batch_update_findings(FindingIdentifiers=[ident(f)], Workflow={"Status": "NOTIFIED"})
    time.sleep(0.02)
    import_findings(hub, [dict(f, UpdatedAt=iso_ms(t0 + dt.timedelta(minutes=10)), Title="Re-audited: still open")])

    records = _history(hub, f)
    assert len(records) == 3, json.dumps(records, default=str, indent=1)
    created, updated, reimported = records
    for r in records:
        assert r["FindingIdentifier"] == ident(f)
    assert created["FindingCreated"] is True
    assert created["UpdateSource"]["Type"] == "BATCH_IMPORT_FINDINGS"

    assert updated["FindingCreated"] is False
    assert updated["UpdateSource"]["Type"] == "BATCH_UPDATE_FINDINGS"
    workflow = [u for u in updated["Updates"] if u["UpdatedField"].startswith("Workflow")]
    assert workflow, updated
    assert "NOTIFIED" in workflow[0]["NewValue"] and "NEW" in workflow[0]["OldValue"], workflow

    assert reimported["FindingCreated"] is False
    assert reimported["UpdateSource"]["Type"] == "BATCH_IMPORT_FINDINGS"
    title = _field_changes(reimported).get("Title")
    assert title, reimported
    assert _json_or_raw(title["OldValue"], f["Title"]) and _json_or_raw(title["NewValue"], "Re-audited: still open"), title
    assert "UpdatedAt" not in _field_changes(reimported), "top-level timestamps are not tracked"


def test_finding_history_unknown_finding(hub):
    resp = None
    try:
        resp = hub.get_finding_history(FindingIdentifier={"Id": "nope", "ProductArn": OWN})
    except hub.exceptions.ResourceNotFoundException:
        return
    except hub.exceptions.InvalidInputException:
        return
    assert resp["Records"] == [], resp


def test_update_findings_archives_by_filter(hub, tag):
    a = dd_audit_finding(ACCT, tag, severity="LOW")
    b = dd_audit_finding(ACCT, tag, policy=f"second-{tag}", severity="CRITICAL")
    import_findings(hub, [a, b])
    hub.update_findings(
        Filters=with_scope(tag, {"SeverityLabel": [{"Value": "LOW", "Comparison": "EQUALS"}]}),
        RecordState="ARCHIVED",
        Note={"Text": "Accepted risk", "UpdatedBy": "secops"},
    )
    got_a, got_b = get_one(hub, a), get_one(hub, b)
    assert got_a["RecordState"] == "ARCHIVED"
    assert got_a["Note"]["Text"] == "Accepted risk" and got_a["Note"]["UpdatedBy"] == "secops"
    assert got_b["RecordState"] == "ACTIVE"
    assert "Note" not in got_b
    active = get_all_findings(hub, with_scope(tag, {"RecordState": [{"Value": "ACTIVE", "Comparison": "EQUALS"}]}))
    assert ids(active) == [b["Id"]]


def test_update_findings_requires_filters(hub_raw):
    expect_error(hub_raw.update_findings, "InvalidInputException", 400, RecordState="ARCHIVED")


# --------------------------------------------------------------------------------------------
# Limits, sizes, provider fields, workflow resets, timestamps, concurrency


@pytest.mark.parametrize(
    "filters",
    [
        {k: [{"Value": "x", "Comparison": "EQUALS"}] for k in
         ["Title", "Id", "GeneratorId", "Region", "Type", "SeverityLabel", "Description", "ProductName",
          "CompanyName", "ResourceId", "ResourceType"]},
        {"Title": [{"Value": f"x{n}", "Comparison": "EQUALS"} for n in range(21)]},
        {"Title": [{"Value": "a", "Comparison": "EQUALS"}, {"Value": "b", "Comparison": "NOT_EQUALS"}]},
        {"CreatedAt": [{"Start": "not a date", "End": "2026-01-01T00:00:00Z"}]},
        {"NetworkSourceIpV4": [{"Cidr": "10.0.0.0/33"}]},
    ],
    ids=["11-attributes", "21-values", "equals-with-not-equals", "bad-date", "bad-cidr"],
)
def test_invalid_filters(hub_raw, filters):
    expect_error(hub_raw.get_findings, "InvalidInputException", 400, Filters=filters)


def test_default_page_size_is_100(hub, tag):
    when = ago(minutes=15)
    import_findings(hub, [dd_detect_finding(ACCT, tag, created=when) for _ in range(130)])
    page = hub.get_findings(Filters=scope(tag))
    assert len(page["Findings"]) == 100 and page.get("NextToken")


def _padded_finding(tag, n, kb):
    """A realistic-shaped finding of about `kb` kilobytes (big ProductFields and Details.Other)."""
    f = dd_detect_finding(ACCT, tag, thing=f"big{n}-{tag}")
    per_value = 1000
    count = min(50, max(1, kb * 1024 // 2 // per_value))
    f["ProductFields"].update({f"fleetward/test/blob{i}": "x" * per_value for i in range(count)})
    f["Resources"][0]["Details"]["Other"].update({f"blob{i}": "y" * per_value for i in range(count)})
    return f


def test_batch_of_100_large_findings_under_6mb(hub, tag):
    findings = [_padded_finding(tag, n, 50) for n in range(100)]
    size = len(json.dumps({"Findings": findings}))
    assert 4_000_000 < size < 6_000_000, size
    resp = hub.batch_import_findings(Findings=findings)
    assert resp["SuccessCount"] == 100 and resp["FailedCount"] == 0, {k: resp[k] for k in ("SuccessCount", "FailedCount")}
    assert len(get_all_findings(hub, scope(tag))) == 100


def test_finding_over_240kb_fails_alone(hub, tag):
    big = dd_detect_finding(ACCT, tag, thing=f"huge-{tag}")
    big["Resources"] = [
        {"Type": "AwsIotRegisteredThing", "Id": f"huge{r}-{tag}", "Region": REGION,
         "Details": {"Other": {f"k{i}": "z" * 1000 for i in range(50)}}}
        for r in range(6)
    ]
    assert len(json.dumps(big)) > 240 * 1024
    small = dd_detect_finding(ACCT, tag)
    resp = hub.batch_import_findings(Findings=[big, small])
    assert resp["SuccessCount"] == 1 and resp["FailedCount"] == 1, resp
    assert resp["FailedFindings"][0]["Id"] == big["Id"] and resp["FailedFindings"][0]["ErrorCode"], resp
    assert ids(get_all_findings(hub, scope(tag))) == [small["Id"]]


def test_more_than_32_resources_is_invalid(hub, tag):
    f = dd_detect_finding(ACCT, tag)
    f["Resources"] = [{"Type": "AwsIotRegisteredThing", "Id": f"thing{n}"} for n in range(33)]
    resp = hub.batch_import_findings(Findings=[f])
    assert resp["FailedCount"] == 1 and resp["FailedFindings"][0]["ErrorCode"] == "InvalidInput", resp
    assert "Resources" in resp["FailedFindings"][0]["ErrorMessage"], resp


def test_finding_provider_fields_only(hub, tag):
    f = dd_detect_finding(ACCT, tag, Severity=None, Types=None, FindingProviderFields={
        "Severity": {"Label": "HIGH", "Original": "8.1"},
        "Types": ["Unusual Behaviors/Process"],
        "Confidence": 70,
    })
    import_findings(hub, [f])
    got = get_one(hub, f)
    assert got["Severity"]["Label"] == "HIGH" and got["Severity"].get("Original") == "8.1"
    assert got["Types"] == ["Unusual Behaviors/Process"]
    assert got["Confidence"] == 70
    assert got["FindingProviderFields"]["Severity"]["Label"] == "HIGH"


def test_finding_provider_fields_win_on_creation(hub, tag):
    f = dd_detect_finding(ACCT, tag, severity="LOW", Types=["Unusual Behaviors"], FindingProviderFields={
        "Severity": {"Label": "CRITICAL"}, "Types": ["TTPs/Command and Control"]})
    import_findings(hub, [f])
    got = get_one(hub, f)
    assert got["Severity"]["Label"] == "CRITICAL"
    assert got["Types"] == ["TTPs/Command and Control"]


def _reimport(hub, finding, minutes, **changes):
    newer = dict(finding, UpdatedAt=iso_ms(parse_ts(finding["UpdatedAt"]) + dt.timedelta(minutes=minutes)), **changes)
    import_findings(hub, [newer])
    return get_one(hub, finding)


def test_workflow_reset_when_archived_finding_comes_back(hub, tag):
    t0 = ago(hours=3)
    notified = dd_audit_finding(ACCT, tag, created=t0)
    suppressed = dd_audit_finding(ACCT, tag, policy=f"other-{tag}", created=t0)
    import_findings(hub, [notified, suppressed])
    hub.batch_update_findings(FindingIdentifiers=[ident(notified)], Workflow={"Status": "NOTIFIED"})
    hub.batch_update_findings(FindingIdentifiers=[ident(suppressed)], Workflow={"Status": "SUPPRESSED"})

    assert _reimport(hub, notified, 10, RecordState="ARCHIVED")["Workflow"]["Status"] == "NOTIFIED"
    assert _reimport(hub, suppressed, 10, RecordState="ARCHIVED")["Workflow"]["Status"] == "SUPPRESSED"
    back = _reimport(hub, notified, 20, RecordState="ACTIVE")
    assert back["RecordState"] == "ACTIVE" and back["Workflow"]["Status"] == "NEW"
    assert _reimport(hub, suppressed, 20, RecordState="ACTIVE")["Workflow"]["Status"] == "SUPPRESSED"


def test_workflow_reset_when_compliance_fails_again(hub, tag):
    f = prowler_finding(ACCT, tag, product_arn=OWN, status="PASSED", created=ago(hours=3))
    import_findings(hub, [f])
    hub.batch_update_findings(FindingIdentifiers=[ident(f)], Workflow={"Status": "RESOLVED"})
    still = _reimport(hub, f, 10, Compliance=dict(f["Compliance"], Status="PASSED"))
    assert still["Workflow"]["Status"] == "RESOLVED"
    failed = _reimport(hub, f, 20, Compliance=dict(f["Compliance"], Status="FAILED"))
    assert failed["Compliance"]["Status"] == "FAILED" and failed["Workflow"]["Status"] == "NEW"


@pytest.mark.parametrize("created,utc", [("{d}T15:25:10+02:00", "{d}T13:25:10Z"),
                                         ("{d}T15:25:10.5-0130", "{d}T16:55:10.5Z"),
                                         ("{d}T15:25:10.123456789+17:59", "{p}T21:26:10.123Z")],
                         ids=["colon-offset", "basic-offset", "max-offset-nanos"])
def test_timestamps_with_offsets(hub, tag, created, utc):
    day, previous = ago(days=2).strftime("%Y-%m-%d"), ago(days=3).strftime("%Y-%m-%d")
    created, utc = created.format(d=day), utc.format(d=day, p=previous)
    f = dd_detect_finding(ACCT, tag, CreatedAt=created, UpdatedAt=created)
    import_findings(hub, [f])
    got = get_one(hub, f)
    assert same_instant(got["CreatedAt"], utc), (got["CreatedAt"], utc)
    hits = hub.get_findings(Filters=with_scope(tag, {"UpdatedAt": [{"Start": utc, "End": utc}]}))["Findings"]
    assert ids(hits) == [f["Id"]]


def test_timestamp_offset_beyond_18_hours_is_invalid(hub, tag):
    f = dd_detect_finding(ACCT, tag, CreatedAt="2026-01-04T15:25:10+18:01", UpdatedAt="2026-01-04T15:25:10+18:01")
    resp = hub.batch_import_findings(Findings=[f])
    assert resp["FailedCount"] == 1 and resp["FailedFindings"][0]["ErrorCode"] == "InvalidInput", resp


def test_unicode_round_trip(hub, tag):
    title = "Gerät „Kühlhaus-7“ meldet 温度アラーム ✓"
    f = dd_detect_finding(ACCT, tag, Title=title, Description="Ünïcödé — 🚨 device violated 'aws:num-messages-sent'")
    f["Resources"][0]["Tags"] = {"Standort": "München"}
    import_findings(hub, [f])
    got = get_one(hub, f)
    assert got["Title"] == title and got["Description"] == f["Description"]
    hits = hub.get_findings(Filters=with_scope(tag, {"Title": [{"Value": title, "Comparison": "EQUALS"}],
                                                     "ResourceTags": [{"Key": "Standort", "Value": "München",
                                                                       "Comparison": "EQUALS"}]}))
    assert ids(hits["Findings"]) == [f["Id"]]


def test_concurrent_imports_and_updates(fw, creds, hub, tag):
    import concurrent.futures

    clients = [fw.client(*creds) for _ in range(8)]
    t0 = ago(hours=1)
    contested = dd_audit_finding(ACCT, tag, created=t0)
    import_findings(hub, [contested])

    def worker(n):
        client = clients[n]
        for batch in range(3):
            import_findings(client, [dd_detect_finding(ACCT, tag, thing=f"w{n}b{batch}i{i}") for i in range(50)])
        version = dict(contested, UpdatedAt=iso_ms(t0 + dt.timedelta(seconds=n + 1)), Title=f"version {n + 1}")
        resp = client.batch_import_findings(Findings=[version])
        assert resp["FailedCount"] == 0, resp
        client.batch_update_findings(FindingIdentifiers=[ident(contested)], UserDefinedFields={f"worker{n}": "seen"})

    with concurrent.futures.ThreadPoolExecutor(max_workers=8) as pool:
        for future in [pool.submit(worker, n) for n in range(8)]:
            future.result()

    assert len(get_all_findings(hub, scope(tag))) == 1 + 8 * 3 * 50
    got = get_one(hub, contested)
    assert got["Title"] == "version 8", "the newest UpdatedAt wins, whatever the arrival order"
    assert same_instant(got["UpdatedAt"], iso_ms(t0 + dt.timedelta(seconds=8)))
    assert "worker" in "".join(got.get("UserDefinedFields", {})), got.get("UserDefinedFields")


def test_finding_history_time_window(hub, tag):
    f = dd_audit_finding(ACCT, tag)
    import_findings(hub, [f])
    time.sleep(0.05)
    middle = utcnow()
    time.sleep(0.05)
    hub.batch_update_findings(FindingIdentifiers=[ident(f)], Workflow={"Status": "SUPPRESSED"})
    later = hub.get_finding_history(FindingIdentifier=ident(f), StartTime=middle)["Records"]
    assert [r["UpdateSource"]["Type"] for r in later] == ["BATCH_UPDATE_FINDINGS"]
    earlier = hub.get_finding_history(FindingIdentifier=ident(f), EndTime=middle)["Records"]
    assert [r["FindingCreated"] for r in earlier] == [True]
