"""The control API calls the dashboard needs beyond the core's, one handler per operationId of
``contracts/admin/openapi.yaml`` (the core's ``AdminApi`` hands them here).

Everything here reads or drives the emulator as the rest of the control API does; nothing
bypasses a vendor's rules.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..core.emulator import Reply
from ..core.errors import admin_error
from ..core.state_tables import StateTable
from . import assets, forms
from .frames import SocketFrames

if TYPE_CHECKING:
    from ..core.emulator import Call, Emulator
    from ..drift.bundle import Bundle

MAX_HAR_BYTES = 5 * 1024 * 1024
"""An uploaded HAR larger than this is refused (413): checking is done on the event loop."""
CORE_ACTIONS = ("addFault", "closeSockets")
"""The core control operations the Act view offers as forms beside the vendor's actions."""


@dataclass
class Dashboard:
    """Handlers of the dashboard's control API calls for one emulator."""

    emulator: Emulator
    frames: SocketFrames = field(init=False)
    _bundle: Bundle | None = field(default=None, init=False)

    def __post_init__(self) -> None:
        self.frames = SocketFrames(self.emulator)

    # -- the page ----------------------------------------------------------------------------

    def getDashboardPage(self, call: Call) -> Reply:
        reply = self._asset(assets.INDEX)
        if self.emulator.settings.admin_token and reply.raw is not None:
            # The page asks for the token before its first call (not after a refused one).
            reply.raw = reply.raw.replace(assets.TOKEN_MARK, assets.TOKEN_REQUIRED, 1)
        return reply

    def getDashboardAsset(self, call: Call) -> Reply:
        name = call.path_params["asset"]
        if name not in assets.assets():
            raise admin_error(404, f"the dashboard has no file {name}")
        return self._asset(name)

    def _asset(self, name: str) -> Reply:
        asset = assets.assets()[name]
        reply = Reply.encoded(asset.body, content_type=asset.content_type)
        reply.headers.update(assets.SECURITY_HEADERS)
        return reply

    # -- overview ----------------------------------------------------------------------------

    def listEmulators(self, call: Call) -> dict[str, Any]:
        from ..vendors import VENDORS

        emulators = [self.emulator, *self.emulator.siblings]
        return {
            "self": self.emulator.name,
            "emulators": [
                {
                    "vendor": emulator.name,
                    "title": VENDORS[emulator.name].title
                    if emulator.name in VENDORS
                    else emulator.name,
                    "url": emulator.base_url,
                    "dashboard": f"{emulator.base_url}/__admin/ui/",
                    "credentials": emulator.credentials(),
                    "ca": emulator.ca_cert is not None,
                    "sockets": sorted(emulator.sockets),
                }
                for emulator in emulators
            ],
        }

    def getEmulatorCa(self, call: Call) -> Reply:
        vendor = call.path_params["vendor"]
        found = next(
            (e for e in [self.emulator, *self.emulator.siblings] if e.name == vendor), None
        )
        if found is None:
            raise admin_error(404, f"no emulator {vendor} is served beside this one")
        if found.ca_cert is None:
            raise admin_error(404, f"{vendor} serves no TLS: it has no CA certificate")
        reply = Reply.encoded(
            Path(found.ca_cert).read_bytes(), content_type="application/x-pem-file"
        )
        reply.headers["Content-Disposition"] = f'attachment; filename="trackmock-{vendor}-ca.pem"'
        return reply

    # -- state -------------------------------------------------------------------------------

    def listStateTables(self, call: Call) -> dict[str, Any]:
        return {"tables": [table.describe() for table in self._tables().values()]}

    def listStateRecords(self, call: Call) -> Reply:
        table = self._table(call.path_params["table"])
        query = call.query
        page = table.page(query.get("offset", 0), query.get("limit", 50), query.get("order"))
        return Reply.encoded(page)

    def getStateRecord(self, call: Call) -> Reply:
        table = self._table(call.path_params["table"])
        key = table.key_of(call.path_params["key"])
        if key is None:
            raise admin_error(404, f"{table.name} has no record {call.path_params['key']}")
        return Reply.encoded(table.record(key))

    def _tables(self) -> dict[str, StateTable]:
        return {table.name: table for table in self.emulator.provider.state_tables()}

    def _table(self, name: str) -> StateTable:
        table = self._tables().get(name)
        if table is None:
            raise admin_error(404, f"no state table {name}; GET /__admin/state lists them")
        return table

    # -- acting as the vendor ------------------------------------------------------------------

    def listControlActions(self, call: Call) -> dict[str, Any]:
        admin = self.emulator.admin
        actions = []
        if admin.vendor_contract is not None:
            actions += [
                forms.describe(operation, "vendor")
                for operation in admin.vendor_contract.operations.values()
                if operation.method != "GET"
            ]
        actions += [forms.describe(admin.contract.operations[op], "core") for op in CORE_ACTIONS]
        return {"actions": actions}

    # -- sockets -----------------------------------------------------------------------------

    def listSocketFrames(self, call: Call) -> dict[str, Any]:
        query = call.query
        return self.frames.listing(
            query.get("connection"), query.get("since"), query.get("limit", 200)
        )

    # -- drift ---------------------------------------------------------------------------------

    def checkDrift(self, call: Call) -> dict[str, Any]:
        from ..drift.inputs import InputError
        from ..drift.upload import check_upload

        data = call.request.get_data()
        if len(data) > MAX_HAR_BYTES:
            raise admin_error(413, f"the file is larger than {MAX_HAR_BYTES} bytes")
        try:
            return check_upload(self.bundle(), "upload.har", data)
        except InputError as exc:
            raise admin_error(400, str(exc)) from exc

    def bundle(self) -> Bundle:
        """This emulator's contracts as ``trackmock check`` reads them (read on first use)."""
        if self._bundle is None:
            from ..drift.bundle import vendor_bundle

            self._bundle = vendor_bundle(self.emulator.name, self.emulator.contract_dir)
        return self._bundle
