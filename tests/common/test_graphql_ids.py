"""One reading of a Relay global id: a bad id is None, or ``not_found`` where an id is required."""

import pytest
from graphql import GraphQLError
from graphql_relay import to_global_id

from common.graphql_ids import decode_global_id, require_global_id, split_global_id

BAD_PATHWAY_IDS = {
    "not base64": "not-base64!",
    "no separator": "cGF0aHdheQ==",
    "another type": to_global_id("Service", "42"),
    "empty raw id": to_global_id("Pathway", ""),
    "empty type": to_global_id("", "42"),
    "empty string": "",
}


def test_a_global_id_of_the_expected_type_decodes_to_its_raw_id():
    assert decode_global_id(to_global_id("Pathway", "42"), "Pathway") == "42"
    assert require_global_id(to_global_id("Pathway", "42"), "Pathway") == "42"
    assert split_global_id(to_global_id("Pathway", "42")) == ("Pathway", "42")


@pytest.mark.parametrize("global_id", BAD_PATHWAY_IDS.values(), ids=BAD_PATHWAY_IDS.keys())
def test_a_bad_global_id_decodes_to_none(global_id):
    assert decode_global_id(global_id, "Pathway") is None


@pytest.mark.parametrize("global_id", BAD_PATHWAY_IDS.values(), ids=BAD_PATHWAY_IDS.keys())
def test_a_required_bad_global_id_is_not_found(global_id):
    with pytest.raises(GraphQLError) as raised:
        require_global_id(global_id, "Pathway")
    assert raised.value.message == "Not a Pathway id."
    assert raised.value.extensions == {"code": "not_found"}
