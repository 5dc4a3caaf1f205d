"""Accounts made with `fleetward admin` are kept apart; hub lifecycle; product subscriptions.

The tests in this module run in file order: the first one checks that account 111111111111
starts without a hub and enables it.
"""

from __future__ import annotations

import re
import uuid

import pytest
from botocore.exceptions import ClientError

from support import (
    DD_AUDIT_ARN,
    DD_DETECT_ARN,
    DEFAULT_ACCOUNT,
    PROWLER_ARN,
    REGION,
    dd_audit_finding,
    default_product_arn,
    expect_error,
    get_all_findings,
    get_one,
    hub_arn,
    ident,
    import_findings,
    make_client,
    parse_ts,
    prowler_finding,
    scope,
    subscription_arn,
    utcnow,
)

TENANT = "111111111111"
NOT_SUBSCRIBED = f"Account {TENANT} is not subscribed to AWS Security Hub"


@pytest.fixture(scope="module")
def tenant_key(fw):
    proc = fw.admin("create-account", "--account-id", TENANT, "--name", "Tenant B")
    assert TENANT in proc.stdout, proc.stdout
    out = fw.admin("create-access-key", "--account-id", TENANT, "--profile", "tenant-b").stdout
    match = re.fullmatch(r"\[tenant-b\]\naws_access_key_id = (\S+)\naws_secret_access_key = (\S+)\n?", out)
    assert match, f"unexpected create-access-key output: {out!r}"
    return match.groups()


@pytest.fixture(scope="module")
def tenant(fw, tenant_key):
    return make_client(fw.endpoint, *tenant_key)


@pytest.fixture(scope="module")
def tenant_enabled(tenant):
    try:
        tenant.enable_security_hub(EnableDefaultStandards=False)
    except ClientError as exc:
        assert exc.response["Error"]["Code"] == "ResourceConflictException", exc.response
    return tenant


def test_new_account_needs_enable_security_hub(tenant, tenant_key):
    expect_error(tenant.describe_hub, "InvalidAccessException", 401, message=NOT_SUBSCRIBED)
    expect_error(tenant.get_findings, "InvalidAccessException", 401, message=NOT_SUBSCRIBED)
    expect_error(tenant.create_insight, "InvalidAccessException", 401,
                 Name="x", Filters={}, GroupByAttribute="SeverityLabel")
    expect_error(tenant.list_enabled_products_for_import, "InvalidAccessException", 401)

    finding = prowler_finding(TENANT, "nohub", product_arn=default_product_arn(TENANT))
    try:
        resp = tenant.batch_import_findings(Findings=[finding])
    except ClientError as exc:
        assert exc.response["Error"]["Code"] == "InvalidAccessException", exc.response["Error"]
    else:
        assert resp["SuccessCount"] == 0 and resp["FailedCount"] == 1, resp
        assert resp["FailedFindings"][0]["ErrorCode"] == "InvalidAccess", resp

    before = utcnow()
    assert tenant.enable_security_hub(Tags={"tenant": "b"}, EnableDefaultStandards=False)["ResponseMetadata"]["HTTPStatusCode"] == 200
    hub = tenant.describe_hub()
    assert hub["HubArn"] == hub_arn(TENANT)
    assert abs((parse_ts(hub["SubscribedAt"]) - before).total_seconds()) < 60, hub["SubscribedAt"]
    assert isinstance(hub["AutoEnableControls"], bool)
    assert hub["ControlFindingGenerator"] in {"SECURITY_CONTROL", "STANDARD_CONTROL"}
    assert tenant.describe_hub(HubArn=hub_arn(TENANT))["HubArn"] == hub_arn(TENANT)
    assert tenant.list_tags_for_resource(ResourceArn=hub_arn(TENANT))["Tags"] == {"tenant": "b"}
    expect_error(tenant.enable_security_hub, "ResourceConflictException", 409)
    # Nothing from before the hub was enabled was stored.
    assert get_all_findings(tenant, scope("nohub")) == []


def test_admin_account_and_key_commands(fw, tenant_key):
    key_id, _ = tenant_key
    listing = fw.admin("list-access-keys", "--account-id", TENANT).stdout
    rows = [line.split("\t") for line in listing.splitlines() if line.strip()]
    assert [r[:3] for r in rows] == [[key_id, TENANT, "Active"]], listing
    assert len(rows[0]) == 4 and rows[0][3], rows
    everything = fw.admin("list-access-keys").stdout
    accounts = {line.split("\t")[1] for line in everything.splitlines() if line.strip()}
    assert {DEFAULT_ACCOUNT, TENANT} <= accounts, everything

    assert fw.admin("create-account", "--account-id", TENANT, check=False).returncode != 0, "duplicate account"
    assert fw.admin("create-account", "--account-id", "12345", check=False).returncode != 0, "not twelve digits"
    assert fw.admin("create-access-key", "--account-id", "222222222299", check=False).returncode != 0, \
        "key for a missing account"


def test_accounts_see_only_their_own_findings(hub, tenant_enabled):
    tenant = tenant_enabled
    tag = "iso" + uuid.uuid4().hex[:8]
    shared_id = f"shared-finding-{tag}"
    mine = prowler_finding(DEFAULT_ACCOUNT, tag, product_arn=default_product_arn(DEFAULT_ACCOUNT), Id=shared_id)
    theirs = prowler_finding(TENANT, tag, product_arn=default_product_arn(TENANT), Id=shared_id, severity="LOW")
    import_findings(hub, [mine])
    import_findings(tenant, [theirs])

    by_id = {"Id": [{"Value": shared_id, "Comparison": "EQUALS"}]}
    got = hub.get_findings(Filters=by_id)["Findings"]
    assert [(f["AwsAccountId"], f["ProductArn"]) for f in got] == [(DEFAULT_ACCOUNT, mine["ProductArn"])]
    got = tenant.get_findings(Filters=by_id)["Findings"]
    assert [(f["AwsAccountId"], f["ProductArn"]) for f in got] == [(TENANT, theirs["ProductArn"])]

    everything = get_all_findings(tenant)
    assert everything and {f["AwsAccountId"] for f in everything} == {TENANT}
    assert get_all_findings(tenant, {"AwsAccountId": [{"Value": DEFAULT_ACCOUNT, "Comparison": "EQUALS"}]}) == []

    # Updating the other account's finding: not found, and it is unchanged.
    resp = tenant.batch_update_findings(FindingIdentifiers=[ident(mine)], Workflow={"Status": "RESOLVED"})
    assert resp["ProcessedFindings"] == []
    assert [(u["FindingIdentifier"]["Id"], u["ErrorCode"]) for u in resp["UnprocessedFindings"]] == \
        [(shared_id, "FindingNotFound")]
    assert get_one(hub, mine)["Workflow"]["Status"] == "NEW"

    # UpdateFindings by filter only reaches the caller's findings.
    tenant.update_findings(Filters=by_id, Note={"Text": "tenant note", "UpdatedBy": "tenant-b"})
    assert "Note" not in get_one(hub, mine)
    assert get_one(tenant, theirs)["Note"]["Text"] == "tenant note"

    # Insight results count the caller's findings only.
    arn = tenant.create_insight(Name="by account", Filters={}, GroupByAttribute="AwsAccountId")["InsightArn"]
    assert arn.startswith(f"arn:aws:securityhub:{REGION}:{TENANT}:insight/{TENANT}/custom/")
    values = tenant.get_insight_results(InsightArn=arn)["InsightResults"]["ResultValues"]
    assert [v["GroupByAttributeValue"] for v in values] == [TENANT]
    assert values[0]["Count"] == len(everything)
    managed = tenant.get_insight_results(InsightArn="arn:aws:securityhub:::insight/securityhub/default/27")
    assert {v["GroupByAttributeValue"] for v in managed["InsightResults"]["ResultValues"]} == {TENANT}
    # The other account's insight is invisible.
    expect_error(hub.get_insight_results, "ResourceNotFoundException", 404, InsightArn=arn)
    assert arn not in {i["InsightArn"] for i in hub.get_insights()["Insights"]}
    tenant.delete_insight(InsightArn=arn)


def test_importing_for_the_other_account_is_denied(hub, tenant_enabled):
    tag = "deny" + uuid.uuid4().hex[:8]
    as_default = prowler_finding(DEFAULT_ACCOUNT, tag, product_arn=default_product_arn(TENANT))
    expect_error(tenant_enabled.batch_import_findings, "AccessDeniedException", 403, Findings=[as_default])
    as_tenant = prowler_finding(TENANT, tag, product_arn=default_product_arn(DEFAULT_ACCOUNT))
    expect_error(hub.batch_import_findings, "AccessDeniedException", 403, Findings=[as_tenant])
    assert get_all_findings(hub, scope(tag)) == []
    assert get_all_findings(tenant_enabled, scope(tag)) == []


def _products(client):
    return {p["ProductArn"]: p for page in client.get_paginator("describe_products").paginate() for p in page["Products"]}


def _subscriptions(client):
    return [arn for page in client.get_paginator("list_enabled_products_for_import").paginate()
            for arn in page["ProductSubscriptions"]]


def test_default_account_accepts_device_defender(hub):
    subs = _subscriptions(hub)
    assert subscription_arn(DEFAULT_ACCOUNT, "aws", "iot-device-defender-audit") in subs
    assert subscription_arn(DEFAULT_ACCOUNT, "aws", "iot-device-defender-detect") in subs
    assert len(subs) == len(set(subs))


def test_describe_products(hub):
    products = _products(hub)
    for arn in (PROWLER_ARN, DD_AUDIT_ARN, DD_DETECT_ARN):
        assert arn in products, sorted(products)
    assert products[PROWLER_ARN]["ProductName"] == "Prowler"
    assert products[DD_AUDIT_ARN]["ProductName"] == "IoT Device Defender - Audit"
    assert products[DD_AUDIT_ARN]["CompanyName"] == "AWS"
    assert products[DD_DETECT_ARN]["ProductName"] == "IoT Device Defender - Detect"
    one = hub.describe_products(ProductArn=PROWLER_ARN)["Products"]
    assert [p["ProductArn"] for p in one] == [PROWLER_ARN]
    page = hub.describe_products(MaxResults=1)
    assert len(page["Products"]) == 1 and page.get("NextToken"), "DescribeProducts pages"


def test_product_subscription_gates_imports(tenant_enabled):
    tenant = tenant_enabled
    tag = "prod" + uuid.uuid4().hex[:8]
    sub = subscription_arn(TENANT, "prowler", "prowler")
    assert sub not in _subscriptions(tenant)

    rejected = prowler_finding(TENANT, tag, resource_id=f"arn:aws:ec2:{REGION}:{TENANT}:instance/i-000000000000000aa")
    dd = dd_audit_finding(TENANT, tag)
    resp = tenant.batch_import_findings(Findings=[rejected, dd])
    assert resp["SuccessCount"] == 0 and resp["FailedCount"] == 2, resp
    assert sorted((f["Id"], f["ErrorCode"]) for f in resp["FailedFindings"]) == \
        sorted([(rejected["Id"], "InvalidAccess"), (dd["Id"], "InvalidAccess")])

    assert tenant.enable_import_findings_for_product(ProductArn=PROWLER_ARN)["ProductSubscriptionArn"] == sub
    assert sub in _subscriptions(tenant)
    expect_error(tenant.enable_import_findings_for_product, "ResourceConflictException", 409, ProductArn=PROWLER_ARN)

    import_findings(tenant, [rejected])
    got = get_one(tenant, rejected)
    assert got["ProductName"] == "Prowler"
    assert got["ProductFields"]["aws/securityhub/ProductName"] == "Prowler"

    tenant.disable_import_findings_for_product(ProductSubscriptionArn=sub)
    assert sub not in _subscriptions(tenant)
    later = prowler_finding(TENANT, tag, resource_id=f"arn:aws:ec2:{REGION}:{TENANT}:instance/i-000000000000000bb")
    resp = tenant.batch_import_findings(Findings=[later])
    assert resp["FailedCount"] == 1 and resp["FailedFindings"][0]["ErrorCode"] == "InvalidAccess", resp
    assert get_one(tenant, rejected)["Id"] == rejected["Id"], "findings imported earlier stay"
    expect_error(tenant.disable_import_findings_for_product, "ResourceNotFoundException", 404,
                 ProductSubscriptionArn=sub)


def test_enable_unknown_product_fails(tenant_enabled):
    try:
        tenant_enabled.enable_import_findings_for_product(
            ProductArn=f"arn:aws:securityhub:{REGION}::product/nosuchcompany/nosuchproduct")
    except ClientError as exc:
        assert exc.response["Error"]["Code"] in {"ResourceNotFoundException", "InvalidInputException"}, exc.response
    else:
        raise AssertionError("subscribing to a product that is not in the catalogue succeeded")


def test_hub_disable_enable(make_account):
    account = make_account()
    client, acct = account.client, account.account_id
    assert client.describe_hub()["HubArn"] == hub_arn(acct)
    expect_error(client.describe_hub, "ResourceNotFoundException", 404,
                 HubArn=f"arn:aws:securityhub:{REGION}:{acct}:hub/other")

    client.update_security_hub_configuration(AutoEnableControls=False, ControlFindingGenerator="STANDARD_CONTROL")
    hub = client.describe_hub()
    assert hub["AutoEnableControls"] is False and hub["ControlFindingGenerator"] == "STANDARD_CONTROL"
    client.update_security_hub_configuration(AutoEnableControls=True)
    hub = client.describe_hub()
    assert hub["AutoEnableControls"] is True and hub["ControlFindingGenerator"] == "STANDARD_CONTROL"

    import_findings(client, [prowler_finding(acct, "lifecycle", product_arn=default_product_arn(acct))])
    client.disable_security_hub()
    not_subscribed = f"Account {acct} is not subscribed to AWS Security Hub"
    expect_error(client.describe_hub, "InvalidAccessException", 401, message=not_subscribed)
    expect_error(client.get_findings, "InvalidAccessException", 401, message=not_subscribed)
    expect_error(client.disable_security_hub, "InvalidAccessException", 401)

    client.enable_security_hub(EnableDefaultStandards=False)
    assert client.describe_hub()["HubArn"] == hub_arn(acct)
    expect_error(client.enable_security_hub, "ResourceConflictException", 409)
