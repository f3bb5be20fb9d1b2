"""Every AWS access of the CLI starts here: session, clients with retry configuration, regions, errors."""

from __future__ import annotations

import difflib
import functools
import os
import re
import sys
import threading
from typing import Any

import boto3
import botocore.client
import botocore.loaders
import botocore.session
from botocore.config import Config
from botocore.credentials import AssumeRoleCredentialFetcher, DeferredRefreshableCredentials
from botocore.exceptions import (
    BotoCoreError,
    ClientError,
    ConnectTimeoutError,
    EndpointConnectionError,
    NoCredentialsError,
    NoRegionError,
    PartialCredentialsError,
)
from botocore.parsers import ResponseParserError

# Standard mode: exponential backoff with jitter, per client, so a throttled account and region (EC2
# throttles each account in each region on its own) waits alone. Adaptive mode adds a client-side send
# rate that, once a call is throttled, holds every later call of that client behind a token bucket.
DEFAULT_RETRY_MODE = "standard"
DEFAULT_MAX_ATTEMPTS = 10
MAX_POOL_CONNECTIONS = 20
# An endpoint that does not accept a connection within this many seconds counts as not answering. A
# connection that fails is tried CONNECT_ATTEMPTS times in all (throttling keeps its own, larger budget), so a
# dead endpoint ends the command within seconds: the user is told at the first failure (`warn_unreachable`).
CONNECT_TIMEOUT_SECONDS = 3
CONNECT_ATTEMPTS = 2
# The one STS client that assumes the role in every account serves at most this many calls at once
# (--max-workers, at most 64): a connection each, kept for the next account.
STS_POOL_CONNECTIONS = 64

ACCESS_DENIED_CODES = frozenset(
    {"AccessDenied", "AccessDeniedException", "UnauthorizedOperation", "AuthFailure", "OptInRequired"}
)
BAD_CREDENTIAL_CODES = frozenset(
    {"InvalidClientTokenId", "SignatureDoesNotMatch", "ExpiredToken", "ExpiredTokenException", "InvalidToken"}
)
THROTTLING_CODES = frozenset(
    {"Throttling", "ThrottlingException", "RequestLimitExceeded", "TooManyRequestsException", "SlowDown"}
)


# What a call to AWS can raise: an error answer, a client-side failure, or an answer that is not the API's
# (an endpoint that does not serve the operation may answer an HTML page).
AWS_ERRORS: tuple[type[Exception], ...] = (ClientError, BotoCoreError, ResponseParserError)


class AwsError(RuntimeError):
    """An AWS failure, already phrased as one line for the user."""


class UsageError(ValueError):
    """The command line asks for something that cannot work (unknown region, missing credentials)."""


def retry_config(pool_connections: int = MAX_POOL_CONNECTIONS) -> Config:
    """Retries with backoff for throttling; AWS_RETRY_MODE and AWS_MAX_ATTEMPTS override the defaults."""
    mode = os.environ.get("AWS_RETRY_MODE") or DEFAULT_RETRY_MODE
    attempts = int(os.environ.get("AWS_MAX_ATTEMPTS") or DEFAULT_MAX_ATTEMPTS)
    return Config(
        retries={"mode": mode, "max_attempts": attempts},
        max_pool_connections=pool_connections,
        connect_timeout=CONNECT_TIMEOUT_SECONDS,
    )


def _ignore_empty_profile(profile: str | None) -> None:
    if not profile and os.environ.get("AWS_PROFILE") == "":
        # An empty AWS_PROFILE names no profile: use the default credential chain, as when it is unset.
        del os.environ["AWS_PROFILE"]


@functools.cache
def _data_loader(data_path: str | None) -> botocore.loaders.Loader:
    return botocore.loaders.create_loader(data_path)


def new_session(profile: str | None = None, region: str | None = None) -> boto3.session.Session:
    """A boto3 session whose service models come from the process's one loader: botocore gives each session
    a loader of its own, which reads and decodes the models again (a quarter of a second of CPU for EC2's)."""
    core = botocore.session.Session(profile=profile)
    return _boto3_session(core, _data_loader(core.get_config_variable("data_path")), region)


def _boto3_session(
    core: botocore.session.Session, loader: botocore.loaders.Loader, region: str | None
) -> boto3.session.Session:
    core.register_component("data_loader", loader)
    made = boto3.session.Session(botocore_session=core, region_name=region)
    # boto3 appends its data directory to the loader of each session it makes: once is enough.
    while loader.search_paths.count(loader.search_paths[-1]) > 1:
        loader.search_paths.pop()
    return made


def session(profile: str | None = None) -> boto3.session.Session:
    """A session that has credentials, or a UsageError saying how to provide them."""
    _ignore_empty_profile(profile)
    try:
        current = new_session(profile or None, env_region())
        credentials = current.get_credentials()
    except BotoCoreError as error:
        raise UsageError(f"cannot load AWS configuration: {error}") from None
    if credentials is None:
        raise UsageError(
            "no AWS credentials found: set AWS_PROFILE, or AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, "
            "or run `aws sso login`"
        )
    return current


def env_region() -> str | None:
    """AWS_REGION, then AWS_DEFAULT_REGION, as the AWS CLI and the SDKs resolve them; None leaves the
    region to the profile. "AWS_REGION ... overrides the values in the environment variable
    AWS_DEFAULT_REGION and the profile setting region" (AWS CLI User Guide, Environment variables)."""
    return os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION") or None


def default_region(current: boto3.session.Session) -> str | None:
    """The region a command uses when none is given: AWS_REGION, AWS_DEFAULT_REGION, the profile's."""
    return env_region() or current.region_name


def known_regions(current: boto3.session.Session, service: str = "ec2") -> set[str]:
    """Every region botocore knows for the service, in every partition."""
    return {
        region
        for partition in current.get_available_partitions()
        for region in current.get_available_regions(service, partition_name=partition)
    }


def check_regions(current: boto3.session.Session, regions: list[str]) -> list[str]:
    """The regions, deduplicated in order; a UsageError naming the first unknown one."""
    if not regions:
        fallback = default_region(current)
        if not fallback:
            raise UsageError(
                "no region: give --region (e.g. us-east-1,eu-west-1), or set AWS_REGION or the profile's region"
            )
        regions = [fallback]
    known = known_regions(current)
    for region in regions:
        if region not in known:
            # Region names are lowercase; a suggestion ignores case, so US-EAST-1 points at us-east-1.
            lower = region.lower()
            close = [lower] if lower in known else difflib.get_close_matches(lower, sorted(known), n=4, cutoff=0.6)
            hint = f" (did you mean {', '.join(close)}?)" if close else ""
            raise UsageError(f"unknown region {region!r}{hint}")
    return list(dict.fromkeys(regions))


def check_region_offline(region: str) -> str:
    """The region if botocore knows it, checked without credentials or network; else a UsageError."""
    _ignore_empty_profile(None)
    try:
        offline = new_session(region=region)
    except BotoCoreError as error:
        raise UsageError(f"cannot load AWS configuration: {error}") from None
    return check_regions(offline, [region])[0]


_warned_endpoints: set[str] = set()
_warned_lock = threading.Lock()


def endpoint_hint() -> str:
    endpoint = os.environ.get("AWS_ENDPOINT_URL")
    return f" (AWS_ENDPOINT_URL={endpoint})" if endpoint else ""


def final_answers(
    response: tuple[Any, dict[str, Any]] | None = None,
    caught_exception: BaseException | None = None,
    attempts: int = 0,
    operation: Any = None,
    **_: Any,
) -> None:
    """botocore `needs-retry` hook, ahead of the retry handler: what no retry can change fails at once.

    - An HTTP 5xx that does not carry the API's error body (its code is the bare status, as an endpoint that
      does not serve the operation answers; AWS's own 5xx name a code such as InternalError) is final.
    - A connection that cannot be made is tried CONNECT_ATTEMPTS times, not the throttling budget.
    """
    if isinstance(caught_exception, (EndpointConnectionError, ConnectTimeoutError)):
        if attempts >= CONNECT_ATTEMPTS:
            raise caught_exception
        return
    if response is None or caught_exception is not None:
        return
    http, parsed = response
    code = str((parsed or {}).get("Error", {}).get("Code", ""))
    if getattr(http, "status_code", 0) >= 500 and (not code or code.isdigit()):
        raise ClientError(parsed, getattr(operation, "name", ""))


def warn_unreachable(caught_exception: BaseException | None = None, attempts: int = 0, **_: Any) -> None:
    """botocore `needs-retry` hook: on the first connection failure to an endpoint, say so on stderr
    while botocore tries again, so a dead endpoint is not silence."""
    if not isinstance(caught_exception, (EndpointConnectionError, ConnectTimeoutError)):
        return
    if attempts >= CONNECT_ATTEMPTS:
        return  # no retry follows: the error itself will say it
    endpoint = getattr(caught_exception, "kwargs", {}).get("endpoint_url", "the AWS endpoint")
    with _warned_lock:
        if endpoint in _warned_endpoints:
            return
        _warned_endpoints.add(endpoint)
    print(
        f"approved-amis: no answer from {endpoint}{endpoint_hint()}; trying once more",
        file=sys.stderr,
        flush=True,
    )


# Services of which an organization audit makes a client per account and region.
REUSED_CLASS_SERVICES = frozenset({"ec2", "autoscaling"})


def _reuse_client_classes() -> None:
    """botocore builds a client's class anew for every client it makes: a method per operation (about 800
    for EC2), 50-100 ms of CPU under the interpreter lock, once per account and region across an
    organization. The class depends only on the service model (and on `creating-client-class` handlers,
    which add none for these services): build it once per service and API version."""
    build = getattr(botocore.client.ClientCreator, "_create_client_class", None)
    if build is None or getattr(build, "reuses_classes", False):
        return
    classes: dict[tuple[str, str], type] = {}
    lock = threading.Lock()

    def reused(creator: Any, service_name: str, service_model: Any) -> type:
        if service_name not in REUSED_CLASS_SERVICES:
            return build(creator, service_name, service_model)  # type: ignore[no-any-return]
        key = (service_name, service_model.api_version)
        with lock:
            if key not in classes:
                classes[key] = build(creator, service_name, service_model)
            return classes[key]

    reused.reuses_classes = True  # type: ignore[attr-defined]
    botocore.client.ClientCreator._create_client_class = reused  # type: ignore[method-assign]


_reuse_client_classes()


def client(current: boto3.session.Session, service: str, region: str) -> Any:
    """A client for one service and region with the retry configuration. Create clients on one thread."""
    made = current.client(service, region_name=region, config=retry_config())
    register_fault_hooks(made)
    return made


def register_fault_hooks(made: Any) -> None:
    """final_answers ahead of botocore's retry handler, warn_unreachable after it."""
    service = made.meta.service_model.service_id.hyphenize()
    made.meta.events.register_first(f"needs-retry.{service}", final_answers)
    made.meta.events.register("needs-retry", warn_unreachable)


def account_id(current: boto3.session.Session, region: str) -> str:
    """The caller's account ID (STS GetCallerIdentity), or an AwsError saying why it is unknown."""
    try:
        return str(client(current, "sts", region).get_caller_identity()["Account"])
    except (ClientError, BotoCoreError) as error:
        raise AwsError(describe_error(error, "cannot identify the AWS account")) from None


def error_code(error: BaseException) -> str:
    if isinstance(error, ClientError):
        return str(error.response.get("Error", {}).get("Code", ""))
    return ""


def describe_error(error: BaseException, context: str) -> str:
    """One line: what failed, the AWS error code, and what to do about it."""
    code = error_code(error)
    message = " ".join(str(error).split())
    if isinstance(error, ClientError):
        message = _html_title(" ".join(str(error.response.get("Error", {}).get("Message", "")).split())) or code
        operation = getattr(error, "operation_name", "")
        where = f"{context}: {operation}: " if operation else f"{context}: "
        if code in ACCESS_DENIED_CODES:
            return f"{where}access denied ({code}): {message}"
        if code in BAD_CREDENTIAL_CODES:
            return f"{where}credentials rejected ({code}): {message}"
        if code in THROTTLING_CODES:
            return f"{where}throttled ({code}) after retries: {message}"
        return f"{where}{code}: {message}"
    if isinstance(error, (NoCredentialsError, PartialCredentialsError)):
        return f"{context}: no usable AWS credentials ({message})"
    if isinstance(error, (EndpointConnectionError, ConnectTimeoutError)):
        return f"{context}: cannot reach the endpoint{endpoint_hint()} ({message})"
    if isinstance(error, NoRegionError):
        return f"{context}: no region given"
    if isinstance(error, ResponseParserError):
        answer = _html_title(str(error))
        return f"{context}: the endpoint's answer is not the API's: {answer if answer != str(error) else message}"
    return f"{context}: {type(error).__name__}: {message}"


def _html_title(message: str) -> str:
    """The title of an HTML error page (what an endpoint that does not serve an operation may answer), else
    the message itself."""
    title = re.search(r"<title>([^<]*)</title>", message, re.IGNORECASE)
    return title.group(1).strip() if title else message


################################################################################
# Organizations: accounts, roles assumed in them, their enabled regions
################################################################################

ROLE_SESSION_NAME = "approved-amis-audit"
ENABLED_OPT_IN_STATUSES = frozenset({"opt-in-not-required", "opted-in"})
ACCOUNT_ID = re.compile(r"^[0-9]{12}$")


def caller_partition(current: boto3.session.Session, region: str) -> tuple[str, str]:
    """The caller's account ID and partition (`aws`, `aws-cn`, `aws-us-gov`), from GetCallerIdentity."""
    try:
        identity = client(current, "sts", region).get_caller_identity()
    except (ClientError, BotoCoreError) as error:
        raise AwsError(describe_error(error, "cannot identify the AWS account")) from None
    return str(identity["Account"]), str(identity["Arn"]).split(":")[1]


# Account states of ListAccounts that can be scanned; the others (PENDING_ACTIVATION, SUSPENDED,
# PENDING_CLOSURE, CLOSED) are skipped and named. `State` replaces `Status`, which "will be retired on
# September 9, 2026" (Organizations API reference, Account); `Status` is read only where `State` is absent.
ACTIVE_ACCOUNT_STATE = "ACTIVE"


def organization_accounts(current: boto3.session.Session, region: str) -> list[dict[str, str]]:
    """Every account of the caller's organization (ListAccounts): Id, Name, State."""
    try:
        pages = client(current, "organizations", region).get_paginator("list_accounts").paginate()
        return [
            {"Id": str(a["Id"]), "Name": str(a.get("Name", "")), "State": account_state(a)}
            for page in pages
            for a in page["Accounts"]
        ]
    except (ClientError, BotoCoreError) as error:
        raise AwsError(describe_error(error, "cannot list the organization's accounts")) from None


def account_state(account: dict[str, Any]) -> str:
    """An Account's `State`; its retired `Status` only where an older endpoint answers without `State`."""
    return str(account.get("State") or account.get("Status") or "")


def role_arn(partition: str, account: str, role_name: str) -> str:
    return f"arn:{partition}:iam::{account}:role/{role_name}"


def assumed_session(
    source: boto3.session.Session, arn: str, region: str, external_id: str | None = None
) -> boto3.session.Session:
    """A session acting as role `arn`: AssumeRole on first use, again whenever the credentials near expiry
    (botocore's refreshable credentials), so that a scan may outlive one set of credentials."""

    def sts_client(service: str, **credentials: Any) -> Any:
        return _shared_client(source, service, region, credentials)

    extra: dict[str, Any] = {"RoleSessionName": ROLE_SESSION_NAME}
    if external_id:
        extra["ExternalId"] = external_id
    source_credentials = source.get_credentials()
    fetcher = AssumeRoleCredentialFetcher(sts_client, source_credentials, arn, extra_args=extra)
    credentials = DeferredRefreshableCredentials(refresh_using=fetcher.fetch_credentials, method="assume-role")
    core = botocore.session.Session()
    core._credentials = credentials  # botocore has no public setter for refreshable credentials
    core.set_config_variable("region", region)
    # Service models are loaded once, not once per account.
    return _boto3_session(core, source._session.get_component("data_loader"), None)


_shared_clients: dict[tuple[Any, ...], Any] = {}
_shared_clients_lock = threading.Lock()


def _shared_client(source: boto3.session.Session, service: str, region: str, credentials: dict[str, Any]) -> Any:
    """One client per caller credentials, service and region, shared by the threads that assume roles in
    every account: a client per account costs as much CPU as the call, and a new connection. Clients are
    safe to share between threads; making one is not, so they are made under a lock."""
    key = (source, service, region, tuple(sorted(credentials.items())))
    with _shared_clients_lock:
        made = _shared_clients.get(key)
        if made is None:
            made = source.client(service, region_name=region, config=retry_config(STS_POOL_CONNECTIONS), **credentials)
            register_fault_hooks(made)
            _shared_clients[key] = made
    return made


def enabled_regions(current: boto3.session.Session, region: str) -> list[str]:
    """The regions enabled in the session's account: DescribeRegions, opt-in regions only when opted in,
    and only those of `region`'s partition (where the account's credentials are valid)."""
    answer = client(current, "ec2", region).describe_regions(AllRegions=False)
    partition = current.get_partition_for_region(region)
    return sorted(
        str(r["RegionName"])
        for r in answer["Regions"]
        if r.get("OptInStatus", "opt-in-not-required") in ENABLED_OPT_IN_STATUSES
        and current.get_partition_for_region(str(r["RegionName"])) == partition
    )


def enabled_regions_here(current: boto3.session.Session) -> list[str]:
    """`--region all` in one account: the regions enabled in it, asked in the default region."""
    home = default_region(current)
    if not home:
        raise UsageError("--region all: set AWS_REGION (or the profile's region), the region to ask for the enabled ones")
    try:
        return enabled_regions(current, home)
    except (ClientError, BotoCoreError) as error:
        raise AwsError(describe_error(error, "cannot list the account's regions")) from None


AMI_ID = re.compile(r"^ami-[0-9a-f]{8}(?:[0-9a-f]{9})?$")


def is_ami_id(value: str) -> bool:
    """Whether the value has the shape of an AMI ID (ami- and 8 or 17 hexadecimal digits)."""
    return bool(AMI_ID.match(value))
