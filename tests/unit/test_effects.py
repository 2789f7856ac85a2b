"""Which SetVariables answers switch the stored password (A01, TC_A_09/TC_A_10)."""

from __future__ import annotations

import pytest

from trio_csms.effects import new_password
from trio_csms.messages import (
    AttributeEnumType,
    ComponentType,
    ResetEnumType,
    ResetRequest,
    ResetResponse,
    ResetStatusEnumType,
    SetVariableDataType,
    SetVariableResultType,
    SetVariablesRequest,
    SetVariablesResponse,
    SetVariableStatusEnumType,
    VariableType,
)


def _exchange(
    component: str,
    variable: str,
    status: SetVariableStatusEnumType,
    attribute: AttributeEnumType | None = None,
) -> tuple[SetVariablesRequest, SetVariablesResponse]:
    data = SetVariableDataType(
        attribute_value="Sixteen-Chars-Pass-1",
        component=ComponentType(name=component),
        variable=VariableType(name=variable),
    )
    result = SetVariableResultType(
        attribute_status=status,
        component=ComponentType(name=component),
        variable=VariableType(name=variable),
    )
    if attribute is not None:
        data.attribute_type = attribute
        result.attribute_type = attribute
    return SetVariablesRequest(set_variable_data=[data]), SetVariablesResponse(
        set_variable_result=[result]
    )


@pytest.mark.parametrize("attribute", [None, AttributeEnumType.Actual])
def test_accepted_basic_auth_password_is_new(attribute: AttributeEnumType | None) -> None:
    request, response = _exchange(
        "SecurityCtrlr", "BasicAuthPassword", SetVariableStatusEnumType.Accepted, attribute
    )
    assert new_password(request, response) == "Sixteen-Chars-Pass-1"


@pytest.mark.parametrize(
    ("component", "variable", "status", "attribute"),
    [
        ("SecurityCtrlr", "BasicAuthPassword", SetVariableStatusEnumType.Rejected, None),
        ("SecurityCtrlr", "BasicAuthPassword", SetVariableStatusEnumType.RebootRequired, None),
        (
            "SecurityCtrlr",
            "BasicAuthPassword",
            SetVariableStatusEnumType.Accepted,
            AttributeEnumType.Target,
        ),
        ("SecurityCtrlr", "OtherVariable", SetVariableStatusEnumType.Accepted, None),
        ("OCPPCommCtrlr", "BasicAuthPassword", SetVariableStatusEnumType.Accepted, None),
    ],
)
def test_anything_else_keeps_the_password(
    component: str,
    variable: str,
    status: SetVariableStatusEnumType,
    attribute: AttributeEnumType | None,
) -> None:
    request, response = _exchange(component, variable, status, attribute)
    assert new_password(request, response) is None


def test_other_actions_are_ignored() -> None:
    reset = ResetRequest(type=ResetEnumType.Immediate)
    assert new_password(reset, ResetResponse(status=ResetStatusEnumType.Accepted)) is None
