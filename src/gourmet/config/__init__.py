"""Settings: read from the environment, in groups (``GOURMET_<GROUP>__<NAME>``)."""

from gourmet.config.groups import (
    SANDBOX_PAYMENTS_URL,
    AdmissionSettings,
    DatabaseSettings,
    KitchenSettings,
    LogsSettings,
    NotificationsSettings,
    OrdersSettings,
    PaymentsSettings,
    RestaurantSettings,
    SecuritySettings,
    ServerSettings,
    group_default,
)
from gourmet.config.settings import Settings, unknown_variables, variable_name

__all__ = [
    "SANDBOX_PAYMENTS_URL",
    "AdmissionSettings",
    "DatabaseSettings",
    "KitchenSettings",
    "LogsSettings",
    "NotificationsSettings",
    "OrdersSettings",
    "PaymentsSettings",
    "RestaurantSettings",
    "SecuritySettings",
    "ServerSettings",
    "Settings",
    "group_default",
    "unknown_variables",
    "variable_name",
]
