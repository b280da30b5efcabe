"""Amounts of money and currencies on the wire.

An amount travels as a JSON string with two decimals (`"1234.50"`): exact, unlike a float,
and the same from every backend. Requests may send a number or a string (`19.99`,
`"19.99"`), never more than two decimals."""

from decimal import Decimal
from typing import Annotated

from pydantic import Field, PlainSerializer, WithJsonSchema

MAX_GOODS_VALUE = Decimal("9999999999.99")
"""The most one incident's goods may be worth: ample in any currency (VND and IDR included)."""

CENTS = Decimal("0.01")


def _as_text(amount: Decimal) -> str:
    return f"{amount.quantize(CENTS)}"


Money = Annotated[
    Decimal,
    PlainSerializer(_as_text, return_type=str, when_used="json"),
    WithJsonSchema(
        {"type": "string", "pattern": r"^\d+\.\d{2}$", "examples": ["1234.50"]},
        mode="serialization",
    ),
]
"""An amount in answers: a string with two decimals in JSON."""

GoodsValue = Annotated[
    Decimal,
    Field(ge=0, le=MAX_GOODS_VALUE, decimal_places=2, allow_inf_nan=False),
    PlainSerializer(_as_text, return_type=str, when_used="json"),
    WithJsonSchema(
        {
            "anyOf": [
                {"type": "number", "minimum": 0, "maximum": float(MAX_GOODS_VALUE)},
                {"type": "string", "pattern": r"^\d{1,10}(\.\d{1,2})?$"},
            ],
            "examples": ["249.90", 249.9],
        },
        mode="validation",
    ),
    WithJsonSchema(
        {"type": "string", "pattern": r"^\d+\.\d{2}$", "examples": ["249.90"]},
        mode="serialization",
    ),
]
"""The value of an incident's goods as sent: 0 to MAX_GOODS_VALUE, at most two decimals."""

# ISO 4217 codes in use as legal tender (CLDR's territory currencies, 2026); the app's Babel
# knows them all (tests/api/test_losses.py checks)
CURRENCIES = frozenset(
    """
    AED AFN ALL AMD AOA ARS AUD AWG AZN BAM BBD BDT BGN BHD BIF BMD BND BOB BRL BSD BTN BWP
    BYN BZD CAD CDF CHF CLP CNY COP CRC CUP CVE CZK DJF DKK DOP DZD EGP ERN ETB EUR FJD FKP
    GBP GEL GHS GIP GMD GNF GTQ GYD HKD HNL HTG HUF IDR ILS INR IQD IRR ISK JMD JOD JPY KES
    KGS KHR KMF KPW KRW KWD KYD KZT LAK LBP LKR LRD LSL LYD MAD MDL MGA MKD MMK MNT MOP MRU
    MUR MVR MWK MXN MYR MZN NAD NGN NIO NOK NPR NZD OMR PAB PEN PGK PHP PKR PLN PYG QAR RON
    RSD RUB RWF SAR SBD SCR SDG SEK SGD SHP SLE SOS SRD SSP STN SYP SZL THB TJS TMT TND TOP
    TRY TTD TWD TZS UAH UGX USD UYU UZS VES VND VUV WST XAF XCD XCG XOF XPF YER ZAR ZMW ZWG
    """.split()
)

CURRENCY_PATTERN = "^[A-Z]{3}$"


def check_currency(code: str | None) -> str | None:
    """A known ISO 4217 code in capitals (`EUR`), or None; ValueError otherwise."""
    if code is not None and code not in CURRENCIES:
        raise ValueError(f"unknown currency {code!r}; use an ISO 4217 code such as EUR or USD")
    return code
