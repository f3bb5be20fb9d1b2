"""AWS APIs the emulator does not serve, answered in tests by responses that botocore's model validates.

Every answer made here goes through `validated`, the check botocore's Stubber applies to the responses it
is given (`botocore.validate.validate_parameters` against the operation's output shape): a member the model
does not have, or a value of the wrong type or enum, fails the test instead of teaching the CLI an API that
does not exist.

- `stubbed(service)`: a client and its Stubber, for unit tests.
- `emulated_image_references`: DescribeImageReferences as AWS would answer it for the emulator's state
  (instances, launch template versions, SSM parameters that hold an AMI ID), installed on the CLI's clients
  by `emulate_apis_on_every_client` when a test puts support/emulated_apis on the CLI's PYTHONPATH: its
  sitecustomize.py calls it in a CLI process, support/cli.py around a run in this process.
- `UNSERVED`: one call per API the emulator does not serve; the contract test fails once it serves one, so
  that the test moves to the emulator.
"""

from __future__ import annotations

import os
import re
import threading
from typing import Any, Callable

import boto3
import botocore.session
from botocore.config import Config
from botocore.exceptions import ClientError
from botocore.parsers import ResponseParserError
from botocore.stub import Stubber
from botocore.validate import validate_parameters

AMI_ID = re.compile(r"^ami-[0-9a-f]{8}(?:[0-9a-f]{9})?$")
EMULATED_OPERATIONS = ("DescribeImageReferences",)
DENIED_CODES = frozenset({"AccessDenied", "AccessDeniedException", "UnauthorizedOperation"})


def validated(client: Any, operation: str, response: dict[str, Any]) -> dict[str, Any]:
    """`response` after the check Stubber.add_response makes: valid for the operation's output shape."""
    shape = client.meta.service_model.operation_model(operation).output_shape
    if shape is not None:
        validate_parameters(response, shape)
    return response


def stubbed(service: str, region: str = "us-east-1") -> tuple[Any, Stubber]:
    """An offline client of `service` and its activated Stubber (responses validated as they are added)."""
    client = boto3.client(
        service, region_name=region, aws_access_key_id="testing", aws_secret_access_key="testing"
    )
    stubber = Stubber(client)
    stubber.activate()
    return client, stubber


################################################################################
# Calls that the emulator answers with an error today
################################################################################

UNSERVED: dict[str, Callable[[Callable[[str], Any], str], Any]] = {
    "ec2 DescribeImageReferences": lambda client, ami: client("ec2").describe_image_references(
        ImageIds=[ami], IncludeAllResourceTypes=True
    ),
    "ec2 GetAllowedImagesSettings": lambda client, ami: client("ec2").get_allowed_images_settings(),
    "ec2 DescribeInstanceImageMetadata": lambda client, ami: client("ec2").describe_instance_image_metadata(),
}


################################################################################
# DescribeImageReferences from the emulator's state
################################################################################


def _arn(service: str, region: str, account: str, resource: str) -> str:
    return f"arn:aws:{service}:{region}:{account}:{resource}"


def emulated_image_references(ec2: Any, ssm: Any, account: str, image_ids: list[str]) -> dict[str, Any]:
    """What DescribeImageReferences (IncludeAllResourceTypes) answers for `image_ids` in the account the
    clients act in: instances not terminated, every launch template version, SSM parameters whose value is
    one of the AMIs. Validated against the model."""
    region = ec2.meta.region_name
    wanted = set(image_ids)
    found: list[dict[str, str]] = []
    states = ["pending", "running", "shutting-down", "stopping", "stopped"]
    for page in ec2.get_paginator("describe_instances").paginate(
        Filters=[{"Name": "instance-state-name", "Values": states}]
    ):
        for reservation in page["Reservations"]:
            for instance in reservation["Instances"]:
                if instance.get("ImageId") in wanted:
                    arn = _arn("ec2", region, account, f"instance/{instance['InstanceId']}")
                    found.append({"ImageId": instance["ImageId"], "ResourceType": "ec2:Instance", "Arn": arn})
    for page in ec2.get_paginator("describe_launch_templates").paginate():
        for template in page["LaunchTemplates"]:
            versions = ec2.describe_launch_template_versions(LaunchTemplateId=template["LaunchTemplateId"])
            amis = {v.get("LaunchTemplateData", {}).get("ImageId") for v in versions["LaunchTemplateVersions"]}
            arn = _arn("ec2", region, account, f"launch-template/{template['LaunchTemplateId']}")
            found += [{"ImageId": ami, "ResourceType": "ec2:LaunchTemplate", "Arn": arn} for ami in sorted(amis & wanted)]
    try:
        for page in ssm.get_paginator("describe_parameters").paginate():
            names = [parameter["Name"] for parameter in page["Parameters"]]
            for start in range(0, len(names), 10):
                for parameter in ssm.get_parameters(Names=names[start : start + 10])["Parameters"]:
                    if parameter.get("Value") in wanted:
                        arn = _arn("ssm", region, account, f"parameter/{parameter['Name'].lstrip('/')}")
                        found.append({"ImageId": parameter["Value"], "ResourceType": "ssm:Parameter", "Arn": arn})
    except ClientError as error:
        # Under IAM enforcement the caller may not read SSM (AWS reads it on the caller's behalf): the
        # emulated answer then names no parameter, which the tests that enforce IAM do not create.
        status = error.response.get("ResponseMetadata", {}).get("HTTPStatusCode")
        if error.response.get("Error", {}).get("Code") not in DENIED_CODES and status != 403:
            raise
    return validated(ec2, "DescribeImageReferences", {"ImageReferences": found})


def install_emulated_apis(client: Any) -> None:
    """Answer EMULATED_OPERATIONS on `client` (an EC2 client pointed at the emulator) from the emulator's
    state, as a Stubber answers: through botocore's before-call event, after validating the response."""
    if not client.meta.endpoint_url.startswith("http://127.") or getattr(_emulating, "now", False):
        return  # not the emulator, or a client the emulation itself makes: it asks the emulator as it is
    if os.environ.get(WITHOUT_RETIRED_VARIABLE):
        drop_retired_members(client)
    if client.meta.service_model.service_name != "ec2":
        return

    def remember(params: dict[str, Any], context: dict[str, Any], **_: Any) -> None:
        context["emulated_api_params"] = dict(params)  # before-call sees the serialized request only

    def answer(context: dict[str, Any], **_: Any) -> tuple[Any, dict[str, Any]] | None:
        """The emulator's own answer when it authorizes and serves the call (a denial stands: IAM enforced by
        the emulator stays enforced); the emulated one when it authorizes but does not serve it."""
        params = context.get("emulated_api_params", {})
        credentials = client._request_signer._credentials.get_frozen_credentials()
        keys = {
            "aws_access_key_id": credentials.access_key,
            "aws_secret_access_key": credentials.secret_key,
            "aws_session_token": credentials.token,
        }
        options = dict(
            region_name=client.meta.region_name,
            endpoint_url=client.meta.endpoint_url,
            config=Config(retries={"max_attempts": 1}),
            **keys,
        )
        _emulating.now = True
        try:
            ec2, ssm, sts = (boto3.client(service, **options) for service in ("ec2", "ssm", "sts"))
        finally:
            _emulating.now = False
        try:
            ec2.describe_image_references(**params)
            return None  # served: let the call go to the emulator
        except ClientError as error:
            if error.response.get("Error", {}).get("Code") in DENIED_CODES:
                return None  # the emulator's denial, as the caller will receive it
        except ResponseParserError:
            pass
        account = sts.get_caller_identity()["Account"]
        response = emulated_image_references(ec2, ssm, account, list(params.get("ImageIds") or []))
        return _HttpOk(), dict(response, ResponseMetadata={"HTTPStatusCode": 200})

    for operation in EMULATED_OPERATIONS:
        client.meta.events.register(f"before-parameter-build.ec2.{operation}", remember)
        client.meta.events.register(f"before-call.ec2.{operation}", answer)


_emulating = threading.local()

# Members AWS has announced it will retire, by service and operation: where the path leads (lists walked
# through), and the member. The emulator still returns them; AWS will not.
RETIRED_MEMBERS = {("organizations", "ListAccounts"): (("Accounts",), "Status")}
# Set in a CLI process's environment (with emulated_apis_path on PYTHONPATH): answers lose RETIRED_MEMBERS.
WITHOUT_RETIRED_VARIABLE = "APPROVED_AMIS_TEST_WITHOUT_RETIRED_MEMBERS"


def drop_retired_members(client: Any) -> None:
    """Answer on `client` as AWS will once the RETIRED_MEMBERS are gone: they are removed from each parsed
    response (botocore's after-call event), which must still be valid for the model."""
    service = client.meta.service_model.service_name

    for (retired_service, operation), (path, member) in RETIRED_MEMBERS.items():
        if retired_service != service:
            continue

        def strip(parsed: dict[str, Any], path: tuple[str, ...] = path, member: str = member, operation: str = operation, **_: Any) -> None:
            items: list[Any] = [parsed]
            for step in path:
                items = [entry for item in items for entry in (item.get(step) or [])]
            for item in items:
                item.pop(member, None)
            answer = {k: v for k, v in parsed.items() if k != "ResponseMetadata"}
            validated(client, operation, answer)

        client.meta.events.register(f"after-call.{client.meta.service_model.service_id.hyphenize()}.{operation}", strip)


class _HttpOk:
    status_code = 200
    headers: dict[str, str] = {}


def emulated_apis_path() -> str:
    """The folder to put on PYTHONPATH of a CLI process so that its EC2 clients get install_emulated_apis
    (support/cli.py applies the same to a run in this process)."""
    return os.path.join(os.path.dirname(__file__), "emulated_apis")


def emulate_apis_on_every_client() -> Callable[[], None]:
    """Every botocore client made from now on gets install_emulated_apis; returns what undoes it."""
    create_client = botocore.session.Session.create_client

    def create_client_with_emulated_apis(self: Any, *args: Any, **kwargs: Any) -> Any:
        client = create_client(self, *args, **kwargs)
        install_emulated_apis(client)
        return client

    botocore.session.Session.create_client = create_client_with_emulated_apis  # type: ignore[method-assign]

    def undo() -> None:
        botocore.session.Session.create_client = create_client  # type: ignore[method-assign]

    return undo
