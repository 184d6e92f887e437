"""``gourmet payments``: reconcile the payments orders record with the provider's ledger."""

from __future__ import annotations

import asyncio

import httpx
import psycopg
import typer
from psycopg.rows import dict_row
from rich.console import Console

from gourmet.cli.context import database_url
from gourmet.config import PaymentsSettings, Settings
from gourmet.ordering.money.reconcile import Reconciliation, reconcile
from gourmet.payments.client import HttpPaymentProvider
from gourmet.payments.provider import ProviderUnavailable
from gourmet.wiring import stripe_provider

app = typer.Typer(help="Card payments: reconcile orders with the provider.", no_args_is_help=True)
console = Console()


@app.command("reconcile")
def reconcile_command() -> None:
    """Compare every card payment and refund the orders record with the provider's ledger;
    print each difference and exit 1 if there is any (2 if the provider cannot be read)."""
    settings = Settings()
    if settings.payments.provider == "sandbox" and not settings.payments.url:
        console.print("[red]No payment provider is configured (GOURMET_PAYMENTS__URL).[/red]")
        raise typer.Exit(code=2)
    try:
        result = asyncio.run(_reconcile(database_url(settings), settings.payments))
    except ProviderUnavailable as exc:
        console.print(f"[red]The provider's ledger could not be read: {exc}[/red]")
        raise typer.Exit(code=2) from exc
    _show(result)
    if result.differences:
        raise typer.Exit(code=1)


async def _reconcile(url: str, payments: PaymentsSettings) -> Reconciliation:
    if payments.provider == "stripe":
        stripe = stripe_provider(payments)
        try:
            ledger = await stripe.ledger()
        finally:
            await stripe.aclose()
    else:
        assert payments.url
        async with httpx.AsyncClient() as http:
            ledger = await HttpPaymentProvider(http, base_url=payments.url).ledger()
    async with await psycopg.AsyncConnection.connect(url, row_factory=dict_row) as conn:
        return await reconcile(conn, ledger)


def _show(result: Reconciliation) -> None:
    console.print(
        f"{result.orders_checked} card order(s) and {result.charges_checked} charge(s) checked;"
        f" {len(result.pending_refunds)} refund(s) on their way"
        + (
            f" (orders {', '.join(map(str, result.pending_refunds))})"
            if result.pending_refunds
            else ""
        )
    )
    if not result.differences:
        console.print("[green]No differences: every payment and refund matches.[/green]")
        return
    # One line each, whole: a scheduled run mails its output, and lines survive any width.
    console.print(f"[red]{len(result.differences)} difference(s):[/red]")
    for found in result.differences:
        order = f"order {found.order}" if found.order is not None else "no order"
        print(f"- {found.kind}: {order}, charge {found.charge or '-'}: {found.detail}")
