"""Forms: an urlencoded body through a pydantic model into messages per field, never a 500."""

from __future__ import annotations

from typing import Literal

import pytest
from fastapi import FastAPI, Request
from fastapi.responses import HTMLResponse
from fastapi.testclient import TestClient
from pydantic import BaseModel, Field, field_validator

from carebase.web.forms import FORM_LEVEL, parse_form, read_form
from carebase.web.render import render
from carebase.web.routing import page_router

LONG = "Use at most 50 characters."


class Person(BaseModel):
    email: str = Field(min_length=1, max_length=50)
    password: str = Field(min_length=12)
    age: int = Field(default=30, ge=18)
    role: Literal["agent", "manager"] = "agent"
    groups: list[str] = []

    @field_validator("email")
    @classmethod
    def has_at(cls, value: str) -> str:
        if "@" not in value:
            raise ValueError("Enter an email address, like ann@example.com.")
        return value


def test_a_valid_form_builds_the_model() -> None:
    form = parse_form(
        b"email=ann%40example.com&password=correct+horse+battery&groups=a&groups=b", Person
    )
    assert form.valid
    assert form.data == Person(
        email="ann@example.com", password="correct horse battery", groups=["a", "b"]
    )


def test_each_wrong_field_gets_words_and_the_values_are_kept_but_secrets() -> None:
    form = parse_form(
        b"email=ann&password=short&age=twelve&role=boss", Person, secret=frozenset({"password"})
    )
    assert not form.valid
    assert form.errors == {
        "email": "Enter an email address, like ann@example.com.",
        "password": "Use at least 12 characters.",
        "age": "Enter a whole number.",
        "role": "Choose one of the options.",
    }
    assert form.values == {"email": "ann", "age": "twelve", "role": "boss"}


@pytest.mark.parametrize(
    ("body", "field", "message"),
    [
        (b"password=correct+horse+battery", "email", "Fill this in."),
        (b"email=&password=correct+horse+battery", "email", "Fill this in."),
        (b"email=a%40b&password=correct+horse+battery&age=3", "age", "Enter a number at least 18."),
        (
            b"email=" + b"a" * 60 + b"%40b&password=correct+horse+battery",
            "email",
            "Use at most 50 characters.",
        ),
        (b"email=a%00%40b&password=correct+horse+battery", "email", "Remove the NUL character."),
    ],
)
def test_messages(body: bytes, field: str, message: str) -> None:
    assert parse_form(body, Person).errors[field] == message


def test_a_body_that_is_not_utf8_is_one_message_for_the_form() -> None:
    form = parse_form(b"email=\xff\xfe", Person)
    assert form.errors == {FORM_LEVEL: "The form could not be read; try again."}


@pytest.fixture
def form_client(app: FastAPI) -> TestClient:
    router = page_router()

    @router.post("/test/sign-in")
    async def submit(request: Request) -> HTMLResponse:
        form = await read_form(request, Person, secret=frozenset({"password"}))
        context = {"next": "/", "notice": None, "values": form.values, "errors": form.errors}
        return render(
            request, "pages/sign_in.html", context, status_code=200 if form.valid else 422
        )

    app.include_router(router)
    return TestClient(app)


def test_a_form_comes_back_with_its_messages_beside_the_fields(form_client: TestClient) -> None:
    with form_client:
        response = form_client.post("/test/sign-in", data={"email": "ann", "password": "too short"})
    assert response.status_code == 422
    text = response.text
    assert 'value="ann"' in text
    assert "too short" not in text
    assert (
        'id="email" name="email" type="email" value="ann" autocomplete="username" required '
        'aria-invalid="true" aria-describedby="email-error">' in text
    )
    assert '<p class="field-error" id="email-error">' in text
    assert "Use at least 12 characters." in text


def test_a_body_that_is_not_a_form_is_415(form_client: TestClient) -> None:
    with form_client:
        response = form_client.post("/test/sign-in", json={"email": "ann"})
    assert response.status_code == 415
    assert response.headers["content-type"].startswith("text/html")
