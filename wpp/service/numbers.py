"""Creating, finishing, renaming, removing and restoring numbers; organisations by name.

Rules from the platform (platform-api.md) and from what went wrong in real use:
- the platform keeps ONE client per ``organizationId`` and forgets nothing the console removes: a create for an id
  whose client any row ever used (active or removed) answers with that old client, possibly still linked to a
  phone. So a new number goes under a fresh sub-organisation id (``<org>__wpp__<8 hex>``) whenever the plain id was
  ever used, and an answer whose session another row holds is never saved as a new number;
- what create returns (apiKey, session) is saved the moment it arrives: losing it orphans the client;
- a create answered with a session that is already linked (connected before any scan) is not shown as
  "connected": the number waits for the staff member's choice (take it over, or make a new one).
"""
from __future__ import annotations

import logging
import secrets as _secrets

from .. import keys, validation
from ..errors import InvalidInput, WppError
from ..i18n import N_, _
from ..jwtinfo import is_usable
from ..models import ConnState, Integration, Organization
from .views import CreateOutcome, NumberView

log = logging.getLogger("wpp.service")

NAME_MAX = 100


#: invisible characters a name copied from the screen may carry (the pages put a word joiner into "http://…" so
#: that it is never a link): never part of a name
_INVISIBLE = dict.fromkeys(map(ord, "\u200b\u200c\u200d\u2060\ufeff"))


def _words(name: object) -> str:
    """A name as typed, without invisible characters and with single spaces."""
    return " ".join(str(name or "").translate(_INVISIBLE).split())


def _school_name(name: object) -> str:
    clean = _words(name)
    if not clean:
        raise InvalidInput(N_("The school's name is empty."), action=N_("Type the school's name."))
    if len(clean) > 200:
        raise InvalidInput(N_("The school's name is too long (at most 200 characters)."),
                           action=N_("Use a shorter name."))
    return clean


def _clean_name(name: str | None, *, required: bool = False) -> str | None:
    text = _words(name)
    if not text:
        if required:
            raise InvalidInput(N_("The name is empty."), action=N_("Type a short name, e.g. \u201cReception\u201d."))
        return None
    if len(text) > NAME_MAX:
        raise InvalidInput(N_("The name is too long ({n} characters; at most {max}).", n=len(text), max=NAME_MAX),
                           action=N_("Use a shorter name."))
    return text


class NumbersMixin:
    # --- organisations ----------------------------------------------------------------------------------
    def add_organization(self, name: str, organization_id: str | None = None, *, actor: str) -> Organization:
        """Name a new school once, when its first number is added (only where the school platform has no table of
        schools). Needs ``add_school`` (an operator of every school: a new school is outside anybody else's). An id
        that already names a school is refused, never renamed (renaming is :meth:`rename_organization`)."""
        self._permit("add_school", None, actor=actor)
        clean = _school_name(name)
        org_id = None
        if organization_id and str(organization_id).strip():
            org_id = validation.validate_org_id(str(organization_id).strip())
            if "__wpp__" in org_id:
                raise InvalidInput(N_("This is the id of a second number, not of a school."),
                                   action=N_("Leave the id empty, or copy the school's own id from the school platform."))
        if not self.can_add_organizations:
            raise InvalidInput(N_("Schools come from the school platform here and cannot be added in the console."),
                               action=N_("Pick the school from the list. If it is missing, ask an administrator."))
        with self._org_lock(f"add-school:{org_id or ''}"):
            if org_id is not None:
                self._refuse_known_school(org_id)
            # only_new: the store never renames a school that is there already (another tab, another replica)
            org = self.store.add_organization(clean, org_id, only_new=True)
            if org.name != clean:
                self._forget_orgs()
                self._refuse_known_school(org.id, known=org)
        self._forget_orgs()
        self._log("organization_added", actor, None, True, N_("Added the school \u201c{school}\u201d", school=org.name),
                  organization_id=org.id)
        return org

    def _refuse_known_school(self, org_id: str, *, known: Organization | None = None) -> None:
        """An id typed for a new school that already names one: refused in words (nothing is changed)."""
        if known is None:
            from ..access.roles import base_org

            known = self._orgs(fresh=True).get(base_org(org_id))
        if known is not None:
            raise InvalidInput(N_("This id already belongs to the school \u201c{school}\u201d; it was not changed.",
                                  school=known.name),
                               action=N_("Pick \u201c{school}\u201d from the list of schools, or leave the id empty for "
                                         "a new school.", school=known.name))

    def rename_organization(self, organization_id: str, name: str, *, actor: str) -> Organization:
        """Give a school the console named a new name (where the school platform has no table of schools). Needs
        ``rename_school`` (an administrator of every school: everybody reads the school by that name)."""
        self._permit("rename_school", None, actor=actor)
        org_id = validation.validate_org_id(str(organization_id or "").strip())
        clean = _school_name(name)
        known = self._orgs(fresh=True).get(org_id)
        if known is None:
            raise InvalidInput(N_("There is no school with this id."), action=N_("Pick the school from the list."))
        if known.source == "platform":
            raise InvalidInput(N_("This school's name comes from the school platform and cannot be changed in the "
                                  "console."), action=N_("Change it on the school platform."))
        org = self.store.add_organization(clean, org_id)
        self._forget_orgs()
        self._log("organization_renamed", actor, None, True,
                  N_("Renamed the school \u201c{old}\u201d to \u201c{new}\u201d", old=known.name, new=org.name),
                  organization_id=org.id)
        return org

    def default_number_name(self, org_id: str | None) -> str:
        """"Main number" for a school's first number, "Number 2", "Number 3"… after it."""
        if not org_id or not self._access.sees(org_id):
            return _("Main number")
        try:
            count = len(self.store.list_integrations(org_id))
        except WppError:
            count = 0
        return _("Main number") if count == 0 else _("Number {n}", n=count + 1)

    # --- create --------------------------------------------------------------------------------------------
    def find_created(self, request_id: str | None) -> NumberView | None:
        """The number a create request made (F5 while it was being created), if any."""
        if not request_id:
            return None
        for row in self.store.list_integrations(include_inactive=True):
            if row.settings.get(keys.CREATE_REQUEST) == request_id and self._visible(row):
                return self.number(row.id)
        return None

    def create_number(self, organization_id: str, *, name: str | None = None, actor: str,
                      request_id: str | None = None, user_jwt: str | None = None) -> CreateOutcome:
        """Create a platform client for a new number of this school, save it, mint its first access key.

        ``request_id`` makes a repeated press (double click, F5 during the wait) finish the same number.
        """
        org = validation.validate_org_id(organization_id)
        if "__wpp__" in org:
            raise InvalidInput(N_("Pick the school, not the id of one of its numbers."))
        if not self._access.sees(org):
            raise InvalidInput(N_("This school is not one of yours."),
                               action=N_("Pick one of your schools. If yours is missing, ask an administrator."))
        self._permit("create", org, actor=actor)
        name = _clean_name(name)
        with self._org_lock(org):
            existing = self.store.list_integrations(org, include_inactive=True)
            if request_id:
                for row in existing:
                    if row.settings.get(keys.CREATE_REQUEST) == request_id:
                        return self._finish(row, actor=actor, user_jwt=user_jwt)
            settings: dict = {}
            if self._plain_id_used(org, existing):
                settings[keys.SUB_ORG] = self._new_sub_org(org)
            if request_id:
                settings[keys.CREATE_REQUEST] = request_id
            row = self.store.create(org, name=name or self.default_number_name(org), settings=settings)
            self._log("create", actor, row, True, N_("Started connecting a new number"))
            return self._finish(row, actor=actor, user_jwt=user_jwt)

    @staticmethod
    def _plain_id_used(org: str, rows: list[Integration]) -> bool:
        """The platform's client for the plain organisation id is taken once ANY row (active or removed) used it."""
        return any(not r.sub_org_id for r in rows)

    @staticmethod
    def _new_sub_org(org: str) -> str:
        return f"{org}__wpp__{_secrets.token_hex(4)}"

    def resume(self, integration_id: str, *, actor: str, user_jwt: str | None = None) -> CreateOutcome:
        """Finish a half-done create: create on the platform and/or mint the first access key."""
        row = self._row(integration_id, "create", actor=actor)
        with self._org_lock(row.organization_id):
            return self._finish(self.store.get(integration_id), actor=actor, user_jwt=user_jwt, resumed=True)

    def _session_owner(self, session: str, except_id: str) -> Integration | None:
        for other in self.store.list_integrations(include_inactive=True):
            if other.id != except_id and other.session == session:
                return other
        return None

    def _finish(self, row: Integration, *, actor: str, user_jwt: str | None, resumed: bool = False) -> CreateOutcome:
        action = "resume" if resumed else "create"
        created = False
        if not (row.api_key and row.session):
            for _attempt in range(3):
                platform_org = row.sub_org_id or row.organization_id
                try:
                    cc = self.client.create_client(platform_org, secret=self.secret, user_jwt=user_jwt)
                except WppError as err:
                    self._record_error(row, err)
                    self._log(action, actor, row, False, N_("Could not create the number on the platform: {problem}",
                                                            problem=err.message_text))
                    return self._outcome(self.store.get(row.id), False, False, err)
                owner = self._session_owner(cc.session, row.id)
                if owner is None:
                    break
                # the platform answered with a client another number (perhaps a removed one) already holds:
                # never reuse it silently; this number gets a client of its own under a fresh sub-organisation id
                log.info("create for %s answered with a session held by another row; using a sub-organisation id",
                         row.id)
                row = self.store.merge_settings(row.id, {keys.SUB_ORG: self._new_sub_org(row.organization_id)})
            else:  # pragma: no cover - the platform would have to answer three fresh ids with taken sessions
                err = WppError(N_("The platform keeps answering with another number's account."),
                               action=N_("Show the details to support."))
                return self._outcome(self.store.get(row.id), False, False, err)
            # saved the moment the platform answers: losing these would orphan the client
            row = self.store.merge_settings(row.id, {keys.API_KEY: cc.api_key.reveal(), keys.SESSION: cc.session})
            created = True
            self._log(action, actor, row, True, N_("Created the number on the platform"))
        saved_ok = bool(row.jwt and row.jwt_expires_at_ms and is_usable(row.jwt_expires_at_ms, self.clock.time()))
        if not saved_ok:
            try:
                self.tokens.token_for(row, session=self._session_cache)
            except WppError as err:
                self._record_error(row, err)
                self._log(action, actor, row, False, N_("Could not get the first access key: {problem}",
                                                        problem=err.message_text))
                return self._outcome(self.store.get(row.id), created, False, err)
            row = self.store.get(row.id)
            self._log(action, actor, row, True, N_("Got the first access key"))
        row = self.store.update(row.id, clear_error=True)
        if created:
            row = self._detect_prelinked(row, actor=actor)
        self._register_soon(row.id)  # its status pushed to the console (in the background; never delays this)
        return self._outcome(row, created, True)

    def _detect_prelinked(self, row: Integration, *, actor: str) -> Integration:
        """A brand-new number that is connected before anyone scanned a QR code was already linked on the
        platform (its client existed before): keep it waiting for the staff member's choice."""
        try:
            status = self.client.get_status(self._session_id(row), self._auth(row))
        except WppError:
            return row
        if status.state is ConnState.CONNECTED:
            row = self.store.merge_settings(row.id, {keys.PRELINKED: True})
            self._log("create", actor, row, True, N_("The platform says this number was already linked to a phone "
                                                     "before any scan; waiting for a decision"))
        return row

    def _outcome(self, row: Integration, created: bool, token_saved: bool, err: WppError | None = None) -> CreateOutcome:
        out = CreateOutcome(row, created, token_saved, err, prelinked=bool(row.settings.get(keys.PRELINKED)))
        try:
            out.view = self.number(row.id)
        except WppError:
            out.view = None
        return out

    def take_over(self, integration_id: str, *, actor: str) -> NumberView:
        """Keep an already-linked number as it is (the staff member knows the phone)."""
        self._row(integration_id, "take_over", actor=actor)
        row = self.store.merge_settings(integration_id, {keys.PRELINKED: None})
        self._log("take_over", actor, row, True, N_("Took over the number that was already linked on the platform"))
        if self.engine is not None:
            self.check_now([row.id])
        return self.number(row.id)

    def make_new_instead(self, integration_id: str, *, actor: str, user_jwt: str | None = None) -> CreateOutcome:
        """Put the number aside (restorable from Removed numbers) and make a fresh number of its school instead.

        Taking a number off the list is ``remove`` (an administrator) — unless the service itself finds that it is
        safe (:meth:`linked_elsewhere`: the platform says the number is linked to a phone the console never paired);
        then ``put_aside`` (an operator) is enough. Either way ``create`` too. Whatever button asked: a stale one
        finds the number as it is now."""
        row = self._row(integration_id, "view", actor=actor)
        safe = self.linked_elsewhere(row.id)
        self._permit("put_aside" if safe else "remove", row.organization_id, row=row, actor=actor)
        self._permit("create", row.organization_id, row=row, actor=actor)
        self.store.merge_settings(row.id, {keys.PRELINKED: None})
        self.store.deactivate(row.id)
        self._log("remove", actor, row, True,
                  N_("Put aside the number that was already linked on the platform to a phone the console never "
                     "paired (it can be restored from Removed numbers)") if safe else
                  N_("Removed the number to make a new one instead (it can be restored from Removed numbers)"))
        return self.create_number(row.organization_id, name=row.name, actor=actor, user_jwt=user_jwt)

    def linked_elsewhere(self, integration_id: str) -> bool:
        """Is this number linked to a phone the console never paired (so that an operator may put it aside)?

        Established by the service, never taken from a button: (1) the console found it connected right after
        creating it, before any QR code was shown, and nobody has decided about it since (``keys.PRELINKED``);
        (2) the console never offered a QR code for it: no linking started in the diary, and the board's history
        never shows it waiting for a scan; (3) the platform says now, asked now, that it is connected. Anything that
        cannot be read is "no" (then it is an administrator's ``remove``)."""
        try:
            row = self._row(integration_id, "view")
            if not (row.is_active and row.settings.get(keys.PRELINKED) and row.api_key and row.session):
                return False
            if any(e.action == "pair" and e.outcome == "ok"
                   for e in self.store.list_activity(integration_id=row.id, limit=2000)):
                return False
            if any(ch.state == ConnState.QR_REQUIRED.value for ch in self.store.status_history(row.id, limit=500)):
                return False
            status = self.client.get_status(self._session_id(row), self._auth(row))
        except WppError:
            return False
        return status.state is ConnState.CONNECTED

    # --- rename / remove / restore ---------------------------------------------------------------------------
    def rename(self, integration_id: str, name: str, *, actor: str) -> NumberView:
        before = self._row(integration_id, "rename", actor=actor)
        clean = _clean_name(name, required=True)
        row = self.store.update(integration_id, name=clean)
        self._log("rename", actor, row, True, N_("Renamed \u201c{old}\u201d to \u201c{new}\u201d",
                                                 old=before.name or "", new=clean))
        return self.number(row.id)

    def remove(self, integration_id: str, *, actor: str, disconnect: bool = False) -> NumberView:
        """Hide the number from the list (its key and settings stay; it can be restored). With ``disconnect``
        the phone is unlinked on the platform first — otherwise it stays linked there."""
        row = self._row(integration_id, "remove", actor=actor)
        if disconnect:
            self._permit("disconnect", row.organization_id, row=row, actor=actor)
        if disconnect and row.api_key and row.session:
            self.stop(row.id, actor=actor)
        row = self.store.deactivate(row.id)
        self._log("remove", actor, row, True,
                  N_("Disconnected the phone and removed the number from the list") if disconnect
                  else N_("Removed the number from the list (the phone stays linked on the platform)"))
        return self.number(row.id)

    def restore(self, integration_id: str, *, actor: str) -> NumberView:
        self._row(integration_id, "restore", actor=actor)
        row = self.store.reactivate(integration_id)
        self._log("restore", actor, row, True, N_("Restored the number to the list"))
        if self.engine is not None:
            self.check_now([row.id])
        return self.number(row.id)

    def stop(self, integration_id: str, *, actor: str) -> None:
        """Unlink the phone (the platform stops the session)."""
        row = self._row(integration_id, "disconnect", actor=actor)
        try:
            self.client.stop_session(self._session_id(row), self._auth(row))
        except WppError as err:
            self._record_error(row, err)
            self._log("stop", actor, row, False, N_("Could not disconnect the phone: {problem}", problem=err.message_text))
            raise
        self._log("stop", actor, row, True, N_("Disconnected the phone"))
        if self.engine is not None:
            self.check_now([row.id])


__all__ = ["NumbersMixin"]
