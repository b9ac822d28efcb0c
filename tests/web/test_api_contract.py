"""The OpenAPI document: every /api/v1 route in it, served to readers, rendered as a page."""

from __future__ import annotations

import re
from typing import Any

import pytest
import schemathesis
from flask import Flask
from pydantic import ValidationError as ModelError
from sqlalchemy.engine import Engine
from sqlmodel import Session

from tests.evidence_helpers import case, ingest, load_small_catalog, report
from tracker import create_app
from tracker.config import TestConfig
from tracker.domain.access import Scope, cli_actor
from tracker.services.tokens import create_token
from tracker.web.api.contract import api_routes, openapi_document, reply
from tracker.web.api.queries import MatrixParams
from tracker.web.api.schemas import ReleaseList
from tracker.web.matrix.page import parse_matrix_query


def _token(engine: Engine, *scopes: Scope) -> dict[str, str]:
    with Session(engine) as db_session, db_session.begin():
        secret = create_token(
            session=db_session, name="docs", actor=cli_actor("test"), scopes=list(scopes)
        ).secret
    return {"Authorization": f"Bearer {secret}"}


def _document(app: Flask) -> dict[str, Any]:
    with app.app_context():
        return openapi_document(app)


def test_every_api_route_has_an_operation_in_the_document(app: Flask) -> None:
    undocumented = [
        f"{route.method} {route.rule}" for route in api_routes(app) if not route.operation
    ]
    assert undocumented == [], f"/api/v1 routes without @operation(...): {undocumented}"
    paths = _document(app)["paths"]
    for route in api_routes(app):
        path = re.sub(r"<(?:[a-z]+:)?([a-z_]+)>", r"{\1}", route.rule)
        assert route.method.lower() in paths[path], route


def test_each_path_variable_is_described_and_each_operation_names_its_errors(app: Flask) -> None:
    for route in api_routes(app):
        assert route.operation is not None
        variables = set(re.findall(r"<(?:[a-z]+:)?([a-z_]+)>", route.rule))
        assert set(route.operation.path) == variables, route.rule
        statuses = route.operation.statuses
        assert {400, 401, 403, 500} <= set(statuses), route.rule
        assert (404 in statuses) or not variables, route.rule


def test_the_document_is_openapi_3_1_that_schemathesis_reads(app: Flask) -> None:
    document = _document(app)
    assert document["openapi"] == "3.1.0"
    loaded = schemathesis.openapi.from_dict(document)
    operations = [result.ok() for result in loaded.get_all_operations()]
    assert len(operations) == len(list(api_routes(app)))
    refs = set(re.findall(r'"#/components/schemas/([A-Za-z]+)"', str(document).replace("'", '"')))
    assert refs <= set(document["components"]["schemas"]), "a $ref names no schema"


def test_operations_that_answer_with_an_etag_document_it_and_304(
    app: Flask, engine: Engine, session: Session
) -> None:
    load_small_catalog(session)
    headers = _token(engine, Scope.READ)
    client = app.test_client()
    samples = {"/api/v1/matrix", "/api/v1/obligations", "/api/v1/obligations/ALPHA-1.1"}
    for route in api_routes(app):
        path = re.sub(r"<(?:[a-z]+:)?([a-z_]+)>", "ALPHA-1.1", route.rule)
        if route.method != "GET" or path not in samples:
            continue
        response = client.get(path, headers=headers)
        assert response.status_code == 200, path
        assert route.operation is not None
        assert route.operation.cached == ("ETag" in response.headers), path
    for path, item in _document(app)["paths"].items():
        for operation in item.values():
            if "304" in operation["responses"]:
                assert "ETag" in operation["responses"]["200"]["headers"], path


def test_the_matrix_parameters_are_the_ones_the_matrix_page_reads() -> None:
    everything = parse_matrix_query(
        {"instrument": "x", "status": "GAP", "tag": "t", "q": "q", "sort": "title"}
        | {"order": "desc", "release": "r", "branch": "b", "environment": "e"}
    )
    assert set(everything.args()) == set(MatrixParams.model_fields)
    params = MatrixParams.from_args({"status": "gap", "sort": " Title ", "instrument": "gdpr"})
    assert params.matrix_query() == parse_matrix_query(
        {"status": "gap", "sort": " Title ", "instrument": "gdpr"}
    )


def test_an_answer_with_a_field_its_model_lacks_is_refused_not_sent(app: Flask) -> None:
    with app.test_request_context(), pytest.raises(ModelError, match="surprise"):
        reply(ReleaseList, {"releases": [], "surprise": 1})


def test_the_document_is_served_to_a_read_token_and_refused_without_credentials(
    app: Flask, engine: Engine
) -> None:
    client = app.test_client()
    refused = client.get("/api/v1/openapi.json")
    assert refused.status_code == 401
    assert refused.get_json()["error"]["code"] == "unauthorized"
    answer = client.get("/api/v1/openapi.json", headers=_token(engine, Scope.READ))
    assert answer.status_code == 200
    assert answer.content_type == "application/json; charset=utf-8"
    assert answer.get_json() == _document(app)
    writer = client.get("/api/v1/openapi.json", headers=_token(engine, Scope.RESULTS_WRITE))
    assert writer.status_code == 403


def test_with_anonymous_read_the_document_and_page_are_open_and_say_so(
    engine: Engine, database_url: str
) -> None:
    open_app = create_app(TestConfig, DATABASE_URL=database_url, ENGINE=engine, ANONYMOUS_READ=True)
    client = open_app.test_client()
    document = client.get("/api/v1/openapi.json").get_json()
    matrix = document["paths"]["/api/v1/matrix"]["get"]
    assert {} in matrix["security"]
    upload = document["paths"]["/api/v1/test-runs"]["post"]
    assert upload["security"] == [{"token": []}]
    assert client.get("/api-docs").status_code == 200


def test_the_reference_page_shows_operations_parameters_answers_and_schemas(
    client: Any, session: Session
) -> None:
    load_small_catalog(session)
    ingest(session, report(case("test_a", obligations="ALPHA-1.1")))
    page = client.get("/api-docs")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "GET /api/v1/matrix" in html and "POST /api/v1/test-runs" in html
    assert 'href="#schema-MatrixRow"' in html and 'id="schema-MatrixRow"' in html
    assert "<code>limit</code>" in html and "at most 1000" in html
    assert "multipart/form-data" in html and "<code>report</code>" in html
    assert "WWW-Authenticate" in html
    assert "<script" not in html


def test_the_reference_page_sends_visitors_to_sign_in(anonymous: Any) -> None:
    response = anonymous.get("/api-docs")
    assert response.status_code == 302 and "/login" in response.headers["Location"]


def test_a_form_part_whose_name_cannot_be_read_is_a_400_not_a_500(
    app: Flask, engine: Engine
) -> None:
    body = b'--B\r\nContent-Disposition: form-data; name="a\\"\r\n\r\n{}\r\n--B--\r\n'
    headers = _token(engine, Scope.RESULTS_WRITE) | {
        "Content-Type": "multipart/form-data; boundary=B"
    }
    response = app.test_client().post("/api/v1/test-runs", data=body, headers=headers)
    assert response.status_code == 400
    assert "cannot be read" in response.get_json()["error"]["message"]
