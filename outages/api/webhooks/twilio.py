"""Twilio webhooks: delivery status callbacks and inbound SMS.

Each request must carry a valid X-Twilio-Signature for the public URL it was sent to;
otherwise it gets 403 and nothing is read or changed.
"""

from __future__ import annotations

import logging
from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, Request, Response
from starlette.datastructures import MultiDict
from twilio.request_validator import RequestValidator
from twilio.twiml.messaging_response import MessagingResponse

from outages.api.deps import EngineDep, SettingsDep
from outages.db import write_transaction
from outages.errors import ValidationError
from outages.notices import callbacks as status_callbacks
from outages.notices import sms_commands

log = logging.getLogger(__name__)
router = APIRouter(prefix="/twilio", tags=["twilio"],
                   responses={403: {"description": "missing or invalid X-Twilio-Signature"}})


def public_url(request: Request, base: str) -> str:
    """The URL Twilio signed: the configured public base (behind a proxy) or the request's."""
    if not base:
        return str(request.url)
    query = f"?{request.url.query}" if request.url.query else ""
    return base.rstrip("/") + request.url.path + query


async def signed_form(request: Request, settings: SettingsDep) -> MultiDict:
    """The form fields of a request Twilio signed; 403 for anything else."""
    signature = request.headers.get("X-Twilio-Signature", "")
    token = settings.twilio.auth_token
    form = await request.form()
    fields = [(k, v) for k, v in form.multi_items() if isinstance(v, str)]
    params = MultiDict(fields)
    url = public_url(request, settings.http.public_base_url)
    if not (token and signature and len(fields) == len(form.multi_items())
            and RequestValidator(token).validate(url, params, signature)):
        log.warning("rejected Twilio webhook for %s: %s", url,
                    "no auth token configured" if not token else "bad or missing signature")
        raise HTTPException(403, "invalid or missing X-Twilio-Signature")
    return params


SignedForm = Annotated[MultiDict, Depends(signed_form)]


def _required(params: MultiDict, *names: str) -> str:
    for name in names:
        value = params.get(name)
        if value:
            return str(value)
    raise ValidationError(f"missing form field {names[0]}", field=names[0])


@router.post("/status", summary="Delivery status callback for a sent SMS", status_code=204,
             response_class=Response)
def status_callback(params: SignedForm, engine: EngineDep, settings: SettingsDep) -> Response:
    sid = _required(params, "MessageSid", "SmsSid")
    status = _required(params, "MessageStatus", "SmsStatus")
    with write_transaction(engine) as conn:
        status_callbacks.record_status(conn, settings, message_sid=sid, provider_status=status,
                                       keep=settings.twilio.remember_webhooks,
                                       error_code=params.get("ErrorCode"),
                                       error=params.get("ErrorMessage"))
    return Response(status_code=204)


@router.post("/inbound", summary="Incoming SMS: STOP/START/HELP/STATUS/MATDIEN keywords",
             response_class=Response,
             responses={200: {"content": {"application/xml": {"schema": {"type": "string"}}},
                              "description": "TwiML"}})
def inbound_sms(params: SignedForm, engine: EngineDep, settings: SettingsDep) -> Response:
    """A message already handled (Twilio retrying, or a replay), or one over the number's
    limits, gets an empty answer: 200 so that Twilio does not retry, and no reply SMS."""
    phone = _required(params, "From")
    sid = _required(params, "MessageSid", "SmsSid")
    with write_transaction(engine) as conn:
        reply = sms_commands.receive(conn, settings, message_sid=sid, phone=phone,
                                     text=params.get("Body", ""))
    twiml = MessagingResponse()
    if reply is not None:
        twiml.message(sms_commands.render(reply, settings))
    return Response(str(twiml), media_type="application/xml")
