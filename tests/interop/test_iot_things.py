"""IoT registry: things, thing types and (static, nested) thing groups, with boto3.

Tests use unique names (`support.unique`) in the default account; tests that need an exact
listing use an account of their own (`make_iot_account`).
"""

from __future__ import annotations

import datetime as dt

from support import (
    DEFAULT_ACCOUNT,
    collect_pages,
    expect_error,
    expect_error_one_of,
    iot_arn,
    unique,
)

ACCT = DEFAULT_ACCOUNT


def names_of(groups: list[dict]) -> set[str]:
    return {g["groupName"] for g in groups}


# --------------------------------------------------------------------------------------------
# Things


def test_create_and_describe_thing(iot):
    name = unique("thing")
    created = iot.create_thing(thingName=name, attributePayload={"attributes": {"color": "red", "serial": "42"}})
    assert created["thingName"] == name
    assert created["thingArn"] == iot_arn(ACCT, "thing", name)
    assert created["thingId"]

    desc = iot.describe_thing(thingName=name)
    assert desc["thingName"] == name
    assert desc["thingArn"] == created["thingArn"]
    assert desc["thingId"] == created["thingId"]
    assert desc["attributes"] == {"color": "red", "serial": "42"}
    assert desc["version"] == 1
    # DescribeThing docs: "For a typical device, the thing name is also used as the default MQTT
    # client ID."
    assert desc["defaultClientId"] == name
    assert "thingTypeName" not in desc


def test_create_thing_is_idempotent_only_for_the_same_configuration(iot):
    # CreateThing docs: "If this call is made multiple times using the same thing name and
    # configuration, the call will succeed. If this call is made with the same thing name but
    # different configuration a ResourceAlreadyExistsException is thrown."
    name = unique("thing")
    attrs = {"attributes": {"model": "m1"}}
    first = iot.create_thing(thingName=name, attributePayload=attrs)
    again = iot.create_thing(thingName=name, attributePayload=attrs)
    assert again["thingId"] == first["thingId"]
    assert again["thingArn"] == first["thingArn"]

    exc = expect_error(iot.create_thing, "ResourceAlreadyExistsException", 409,
                       thingName=name, attributePayload={"attributes": {"model": "m2"}})
    # ResourceAlreadyExistsException carries resourceArn/resourceId (botocore model error shape).
    assert exc.response.get("resourceArn") == first["thingArn"], exc.response
    assert exc.response.get("resourceId") in (first["thingId"], name), exc.response
    assert iot.describe_thing(thingName=name)["attributes"] == {"model": "m1"}


def test_update_thing_merges_replaces_and_removes_attributes(iot):
    name = unique("thing")
    iot.create_thing(thingName=name, attributePayload={"attributes": {"a": "1", "b": "2"}})

    # AttributePayload.merge: merged with the stored attributes instead of overwriting them.
    iot.update_thing(thingName=name, attributePayload={"attributes": {"c": "3"}, "merge": True})
    desc = iot.describe_thing(thingName=name)
    assert desc["attributes"] == {"a": "1", "b": "2", "c": "3"}
    assert desc["version"] == 2

    # "To remove an attribute, call UpdateThing with an empty attribute value."
    iot.update_thing(thingName=name, attributePayload={"attributes": {"a": ""}, "merge": True})
    desc = iot.describe_thing(thingName=name)
    assert desc["attributes"] == {"b": "2", "c": "3"}
    assert desc["version"] == 3

    # Without merge the payload overwrites the attributes.
    iot.update_thing(thingName=name, attributePayload={"attributes": {"z": "26"}})
    desc = iot.describe_thing(thingName=name)
    assert desc["attributes"] == {"z": "26"}
    assert desc["version"] == 4


def test_update_and_delete_thing_check_expected_version(iot):
    # UpdateThing/DeleteThing docs: a request whose expectedVersion does not match the registry's
    # version is rejected with a VersionConflictException.
    name = unique("thing")
    iot.create_thing(thingName=name)
    expect_error(iot.update_thing, "VersionConflictException", 409,
                 thingName=name, attributePayload={"attributes": {"k": "v"}}, expectedVersion=7)
    assert iot.describe_thing(thingName=name).get("attributes", {}) == {}

    iot.update_thing(thingName=name, attributePayload={"attributes": {"k": "v"}}, expectedVersion=1)
    assert iot.describe_thing(thingName=name)["version"] == 2

    expect_error(iot.delete_thing, "VersionConflictException", 409, thingName=name, expectedVersion=1)
    iot.describe_thing(thingName=name)
    iot.delete_thing(thingName=name, expectedVersion=2)
    expect_error(iot.describe_thing, "ResourceNotFoundException", 404, thingName=name)


def test_missing_thing(iot):
    name = unique("nothing")
    expect_error(iot.describe_thing, "ResourceNotFoundException", 404, thingName=name)
    expect_error(iot.update_thing, "ResourceNotFoundException", 404,
                 thingName=name, attributePayload={"attributes": {"k": "v"}})
    # DeleteThing docs: "Returns successfully with no error if the deletion is successful or you
    # specify a thing that doesn't exist."
    iot.delete_thing(thingName=name)


def test_delete_thing_removes_it_everywhere(iot):
    name = unique("thing")
    group = unique("grp")
    iot.create_thing(thingName=name)
    iot.create_thing_group(thingGroupName=group)
    iot.add_thing_to_thing_group(thingGroupName=group, thingName=name)

    iot.delete_thing(thingName=name)
    expect_error(iot.describe_thing, "ResourceNotFoundException", 404, thingName=name)
    assert name not in iot.list_things_in_thing_group(thingGroupName=group)["things"]
    listed, _ = collect_pages(iot.list_things, "things", size=250)
    assert name not in {t["thingName"] for t in listed}


def test_delete_thing_with_an_attached_principal_is_rejected(iot):
    # AWS answers DeleteThing on a thing with principals with InvalidRequestException "Cannot
    # delete. Thing NAME is still attached to one or more principals" (quoted in
    # github.com/rebuy-de/aws-nuke/issues/374 and getmoto/moto#4616).
    name = unique("thing")
    iot.create_thing(thingName=name)
    cert = iot.create_keys_and_certificate(setAsActive=False)
    iot.attach_thing_principal(thingName=name, principal=cert["certificateArn"])
    expect_error(iot.delete_thing, "InvalidRequestException", 400, thingName=name)
    iot.describe_thing(thingName=name)

    iot.detach_thing_principal(thingName=name, principal=cert["certificateArn"])
    iot.delete_thing(thingName=name)
    expect_error(iot.describe_thing, "ResourceNotFoundException", 404, thingName=name)


def test_list_things_pages_to_the_end(make_iot_account):
    acct = make_iot_account()
    names = {unique("pg") for _ in range(7)}
    for name in names:
        acct.iot.create_thing(thingName=name, attributePayload={"attributes": {"batch": "one"}})

    things, pages = collect_pages(acct.iot.list_things, "things", size=3)
    listed = [t["thingName"] for t in things]
    assert len(listed) == len(set(listed)), f"duplicates across pages: {listed}"
    assert set(listed) == names
    assert pages >= 3
    for thing in things:
        assert thing["thingArn"] == acct.arn("thing", thing["thingName"])
        assert thing["attributes"] == {"batch": "one"}
        assert thing["version"] == 1


def test_list_things_filters(make_iot_account):
    acct = make_iot_account()
    iot = acct.iot
    ttype = unique("type")
    iot.create_thing_type(thingTypeName=ttype)
    iot.create_thing(thingName="red-1", attributePayload={"attributes": {"color": "red", "size": "big"}})
    iot.create_thing(thingName="red-2", thingTypeName=ttype, attributePayload={"attributes": {"color": "red"}})
    iot.create_thing(thingName="reddish", attributePayload={"attributes": {"color": "reddish"}})
    iot.create_thing(thingName="blue-1", thingTypeName=ttype, attributePayload={"attributes": {"color": "blue"}})

    def names(**kwargs):
        things, _ = collect_pages(iot.list_things, "things", size=2, **kwargs)
        return sorted(t["thingName"] for t in things)

    assert names() == ["blue-1", "red-1", "red-2", "reddish"]
    assert names(attributeName="color", attributeValue="red") == ["red-1", "red-2"]
    assert names(attributeName="color", attributeValue="red", usePrefixAttributeValue=True) == \
        ["red-1", "red-2", "reddish"]
    assert names(thingTypeName=ttype) == ["blue-1", "red-2"]
    assert names(attributeName="size", attributeValue="big") == ["red-1"]
    listed = {t["thingName"]: t for t in iot.list_things(thingTypeName=ttype)["things"]}
    assert listed["red-2"]["thingTypeName"] == ttype


# --------------------------------------------------------------------------------------------
# Thing types


def test_thing_type_lifecycle(iot):
    ttype = unique("type")
    props = {"thingTypeDescription": "traffic light", "searchableAttributes": ["wattage", "model"]}
    created = iot.create_thing_type(thingTypeName=ttype, thingTypeProperties=props)
    assert created["thingTypeName"] == ttype
    assert created["thingTypeArn"] == iot_arn(ACCT, "thingtype", ttype)
    assert created["thingTypeId"]

    desc = iot.describe_thing_type(thingTypeName=ttype)
    assert desc["thingTypeArn"] == created["thingTypeArn"]
    assert desc["thingTypeId"] == created["thingTypeId"]
    assert desc["thingTypeProperties"]["thingTypeDescription"] == "traffic light"
    assert desc["thingTypeProperties"]["searchableAttributes"] == ["wattage", "model"]
    meta = desc["thingTypeMetadata"]
    assert meta["deprecated"] is False
    assert "deprecationDate" not in meta
    assert abs(meta["creationDate"] - dt.datetime.now(dt.timezone.utc)) < dt.timedelta(minutes=5)

    listed = iot.list_thing_types(thingTypeName=ttype)["thingTypes"]
    assert [t["thingTypeName"] for t in listed] == [ttype]
    assert listed[0]["thingTypeArn"] == created["thingTypeArn"]

    thing = unique("thing")
    iot.create_thing(thingName=thing, thingTypeName=ttype)
    assert iot.describe_thing(thingName=thing)["thingTypeName"] == ttype
    iot.update_thing(thingName=thing, removeThingType=True)
    assert "thingTypeName" not in iot.describe_thing(thingName=thing)
    iot.update_thing(thingName=thing, thingTypeName=ttype)
    assert iot.describe_thing(thingName=thing)["thingTypeName"] == ttype


def test_thing_with_missing_type_is_rejected(iot):
    missing = unique("notype")
    expect_error(iot.describe_thing_type, "ResourceNotFoundException", 404, thingTypeName=missing)
    # CreateThing lists ResourceNotFoundException for the named thing type that does not exist.
    expect_error(iot.create_thing, "ResourceNotFoundException", 404,
                 thingName=unique("thing"), thingTypeName=missing)


def test_deprecated_thing_type_takes_no_new_things(iot):
    # DeprecateThingType docs: "You can not associate new things with deprecated thing type";
    # undoDeprecate makes it usable again. Existing things keep the type.
    ttype = unique("type")
    iot.create_thing_type(thingTypeName=ttype)
    old = unique("thing")
    iot.create_thing(thingName=old, thingTypeName=ttype)

    iot.deprecate_thing_type(thingTypeName=ttype)
    meta = iot.describe_thing_type(thingTypeName=ttype)["thingTypeMetadata"]
    assert meta["deprecated"] is True
    assert abs(meta["deprecationDate"] - dt.datetime.now(dt.timezone.utc)) < dt.timedelta(minutes=5)
    assert iot.describe_thing(thingName=old)["thingTypeName"] == ttype

    expect_error(iot.create_thing, "InvalidRequestException", 400, thingName=unique("thing"), thingTypeName=ttype)
    other = unique("thing")
    iot.create_thing(thingName=other)
    expect_error(iot.update_thing, "InvalidRequestException", 400, thingName=other, thingTypeName=ttype)

    iot.deprecate_thing_type(thingTypeName=ttype, undoDeprecate=True)
    assert iot.describe_thing_type(thingTypeName=ttype)["thingTypeMetadata"]["deprecated"] is False
    iot.update_thing(thingName=other, thingTypeName=ttype)
    assert iot.describe_thing(thingName=other)["thingTypeName"] == ttype


def test_delete_thing_type_needs_deprecation_five_minutes_ago(iot):
    # Developer guide, "Delete a thing type": "You can delete thing types only after they have
    # been deprecated" and "Before you can delete a thing type, wait for five minutes after you
    # deprecate it." (The success path needs a movable clock; this checks the refusals.)
    ttype = unique("type")
    iot.create_thing_type(thingTypeName=ttype)
    expect_error(iot.delete_thing_type, "InvalidRequestException", 400, thingTypeName=ttype)
    iot.deprecate_thing_type(thingTypeName=ttype)
    expect_error(iot.delete_thing_type, "InvalidRequestException", 400, thingTypeName=ttype)
    assert iot.describe_thing_type(thingTypeName=ttype)["thingTypeName"] == ttype
    expect_error(iot.delete_thing_type, "ResourceNotFoundException", 404, thingTypeName=unique("notype"))


# --------------------------------------------------------------------------------------------
# Thing groups


def make_tree(iot):
    """root <- child <- grandchild; returns the three names."""
    root, child, grand = unique("root"), unique("child"), unique("grand")
    iot.create_thing_group(thingGroupName=root, thingGroupProperties={"thingGroupDescription": "top"})
    iot.create_thing_group(thingGroupName=child, parentGroupName=root)
    iot.create_thing_group(thingGroupName=grand, parentGroupName=child)
    return root, child, grand


def test_create_and_describe_nested_groups(iot):
    root = unique("root")
    created = iot.create_thing_group(
        thingGroupName=root,
        thingGroupProperties={"thingGroupDescription": "top level",
                              "attributePayload": {"attributes": {"site": "lab"}}})
    assert created["thingGroupName"] == root
    assert created["thingGroupArn"] == iot_arn(ACCT, "thinggroup", root)
    assert created["thingGroupId"]
    child = unique("child")
    iot.create_thing_group(thingGroupName=child, parentGroupName=root)
    grand = unique("grand")
    iot.create_thing_group(thingGroupName=grand, parentGroupName=child)

    desc = iot.describe_thing_group(thingGroupName=root)
    assert desc["thingGroupId"] == created["thingGroupId"]
    assert desc["thingGroupArn"] == created["thingGroupArn"]
    assert desc["version"] == 1
    assert desc["thingGroupProperties"]["thingGroupDescription"] == "top level"
    assert desc["thingGroupProperties"]["attributePayload"]["attributes"] == {"site": "lab"}
    assert "parentGroupName" not in desc["thingGroupMetadata"]
    assert not desc["thingGroupMetadata"].get("rootToParentThingGroups")

    desc = iot.describe_thing_group(thingGroupName=grand)
    meta = desc["thingGroupMetadata"]
    assert meta["parentGroupName"] == child
    # ThingGroupMetadata.rootToParentThingGroups: the ancestors, from the root down to the parent.
    assert meta["rootToParentThingGroups"] == [
        {"groupName": root, "groupArn": iot_arn(ACCT, "thinggroup", root)},
        {"groupName": child, "groupArn": iot_arn(ACCT, "thinggroup", child)},
    ]


def test_list_thing_groups_by_parent_prefix_and_recursion(iot):
    root, child, grand = make_tree(iot)

    groups, _ = collect_pages(iot.list_thing_groups, "thingGroups", size=1, parentGroup=root, recursive=True)
    assert names_of(groups) == {child, grand}
    groups, _ = collect_pages(iot.list_thing_groups, "thingGroups", size=1, parentGroup=root, recursive=False)
    assert names_of(groups) == {child}
    groups, _ = collect_pages(iot.list_thing_groups, "thingGroups", size=1, parentGroup=child)
    assert names_of(groups) == {grand}
    for group in groups:
        assert group["groupArn"] == iot_arn(ACCT, "thinggroup", group["groupName"])

    prefix = root[:-4]
    groups, _ = collect_pages(iot.list_thing_groups, "thingGroups", size=250, namePrefixFilter=prefix)
    assert names_of(groups) == {root}

    everything, _ = collect_pages(iot.list_thing_groups, "thingGroups", size=250)
    assert {root, child, grand} <= names_of(everything)


def test_things_in_nested_groups(iot):
    root, child, grand = make_tree(iot)
    t1, t2, t3 = unique("thing"), unique("thing"), unique("thing")
    for name in (t1, t2, t3):
        iot.create_thing(thingName=name)
    iot.add_thing_to_thing_group(thingGroupName=root, thingName=t1)
    iot.add_thing_to_thing_group(thingGroupName=child, thingName=t2)
    # By ARN instead of by name.
    iot.add_thing_to_thing_group(thingGroupArn=iot_arn(ACCT, "thinggroup", grand),
                                 thingArn=iot_arn(ACCT, "thing", t3))

    def members(group, **kwargs):
        things, _ = collect_pages(iot.list_things_in_thing_group, "things", size=1, thingGroupName=group, **kwargs)
        assert len(things) == len(set(things))
        return set(things)

    assert members(root) == {t1}
    # ListThingsInThingGroup.recursive: "list things in this thing group and in all child groups".
    assert members(root, recursive=True) == {t1, t2, t3}
    assert members(child, recursive=True) == {t2, t3}
    assert members(grand) == {t3}

    assert names_of(iot.list_thing_groups_for_thing(thingName=t3)["thingGroups"]) == {grand}

    iot.remove_thing_from_thing_group(thingGroupName=child, thingName=t2)
    assert members(child) == set()
    assert iot.list_thing_groups_for_thing(thingName=t2)["thingGroups"] == []


def test_update_thing_groups_for_thing(iot):
    g1, g2, g3 = unique("g"), unique("g"), unique("g")
    for group in (g1, g2, g3):
        iot.create_thing_group(thingGroupName=group)
    thing = unique("thing")
    iot.create_thing(thingName=thing)

    iot.update_thing_groups_for_thing(thingName=thing, thingGroupsToAdd=[g1, g2])
    assert names_of(iot.list_thing_groups_for_thing(thingName=thing)["thingGroups"]) == {g1, g2}
    iot.update_thing_groups_for_thing(thingName=thing, thingGroupsToAdd=[g3], thingGroupsToRemove=[g1])
    assert names_of(iot.list_thing_groups_for_thing(thingName=thing)["thingGroups"]) == {g2, g3}
    assert thing in iot.list_things_in_thing_group(thingGroupName=g3)["things"]
    assert thing not in iot.list_things_in_thing_group(thingGroupName=g1)["things"]


def test_group_membership_needs_existing_thing_and_group(iot):
    group = unique("g")
    iot.create_thing_group(thingGroupName=group)
    thing = unique("thing")
    iot.create_thing(thingName=thing)
    expect_error(iot.add_thing_to_thing_group, "ResourceNotFoundException", 404,
                 thingGroupName=group, thingName=unique("nothing"))
    expect_error(iot.add_thing_to_thing_group, "ResourceNotFoundException", 404,
                 thingGroupName=unique("nogroup"), thingName=thing)
    expect_error(iot.list_things_in_thing_group, "ResourceNotFoundException", 404, thingGroupName=unique("nogroup"))
    expect_error(iot.list_thing_groups_for_thing, "ResourceNotFoundException", 404, thingName=unique("nothing"))
    expect_error(iot.describe_thing_group, "ResourceNotFoundException", 404, thingGroupName=unique("nogroup"))


def test_update_thing_group_versions(iot):
    group = unique("g")
    iot.create_thing_group(thingGroupName=group, thingGroupProperties={"thingGroupDescription": "v1"})
    resp = iot.update_thing_group(thingGroupName=group,
                                  thingGroupProperties={"thingGroupDescription": "v2",
                                                        "attributePayload": {"attributes": {"k": "v"}}})
    assert resp["version"] == 2
    desc = iot.describe_thing_group(thingGroupName=group)
    assert desc["version"] == 2
    assert desc["thingGroupProperties"]["thingGroupDescription"] == "v2"
    assert desc["thingGroupProperties"]["attributePayload"]["attributes"] == {"k": "v"}

    # UpdateThingGroup/DeleteThingGroup: expectedVersion mismatch -> VersionConflictException.
    expect_error(iot.update_thing_group, "VersionConflictException", 409, thingGroupName=group,
                 thingGroupProperties={"thingGroupDescription": "v3"}, expectedVersion=1)
    expect_error(iot.delete_thing_group, "VersionConflictException", 409, thingGroupName=group, expectedVersion=1)
    assert iot.update_thing_group(thingGroupName=group, thingGroupProperties={"thingGroupDescription": "v3"},
                                  expectedVersion=2)["version"] == 3
    iot.delete_thing_group(thingGroupName=group, expectedVersion=3)
    expect_error(iot.describe_thing_group, "ResourceNotFoundException", 404, thingGroupName=group)


def test_create_group_conflicts_and_missing_parent(iot):
    group = unique("g")
    iot.create_thing_group(thingGroupName=group, thingGroupProperties={"thingGroupDescription": "one"})
    exc = expect_error(iot.create_thing_group, "ResourceAlreadyExistsException", 409,
                       thingGroupName=group, thingGroupProperties={"thingGroupDescription": "two"})
    assert exc.response.get("resourceArn") == iot_arn(ACCT, "thinggroup", group), exc.response
    # An unknown parent: CreateThingGroup's model lists InvalidRequestException but no
    # ResourceNotFoundException; moto answers ResourceNotFoundException. Either way no group.
    orphan = unique("g")
    expect_error_one_of(iot.create_thing_group, {"InvalidRequestException", "ResourceNotFoundException"},
                        thingGroupName=orphan, parentGroupName=unique("noparent"))
    expect_error(iot.describe_thing_group, "ResourceNotFoundException", 404, thingGroupName=orphan)


def test_delete_thing_group_with_children_is_rejected(iot):
    # AWS CLI example for delete-thing-group: "You cannot delete a thing group if it contains
    # child thing groups."
    root, child, grand = make_tree(iot)
    expect_error(iot.delete_thing_group, "InvalidRequestException", 400, thingGroupName=root)
    expect_error(iot.delete_thing_group, "InvalidRequestException", 400, thingGroupName=child)
    iot.describe_thing_group(thingGroupName=root)

    thing = unique("thing")
    iot.create_thing(thingName=thing)
    iot.add_thing_to_thing_group(thingGroupName=grand, thingName=thing)
    iot.delete_thing_group(thingGroupName=grand)  # a group with things (but no children) can go
    assert iot.list_thing_groups_for_thing(thingName=thing)["thingGroups"] == []
    iot.delete_thing_group(thingGroupName=child)
    iot.delete_thing_group(thingGroupName=root)
    for group in (root, child, grand):
        expect_error(iot.describe_thing_group, "ResourceNotFoundException", 404, thingGroupName=group)
    # DeleteThingGroup's model lists no ResourceNotFoundException: deleting a missing group succeeds.
    iot.delete_thing_group(thingGroupName=root)
