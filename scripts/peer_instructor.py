"""The instructor side of the peer benchmark (run by scripts/peer-bench.sh).

Extracts the DESIGN.md Person from every text of tests/data/people.jsonl on the real
llama-server, with Python instructor in one mode (JSON_SCHEMA, JSON or MD_JSON), and prints
one JSON line: success rate, model calls per success, prompt tokens per call (as the server
counts them, every call including re-asks), exact-match accuracy per field, wall time.

    python peer_instructor.py MODE BASE_URL DATA_FILE

The Person is the same contract as factum's (tests/src/llama.rs): the same docs, a name
that is not empty, an age from 0 to 150, and an optional email that must be an email
address (pydantic's EmailStr, from the email-validator package). PEER_TRACE=1 prints every
call's raw text and every validation error on stderr.
"""

import json
import os
import sys
import time
from typing import Optional

import instructor
from openai import OpenAI
from pydantic import BaseModel, EmailStr, Field

TRACE = bool(os.environ.get("PEER_TRACE"))


class Person(BaseModel):
    """A person mentioned in the text."""

    name: str = Field(min_length=1, description="Full name, as written.")
    age: int = Field(ge=0, le=150, description="Age in whole years.")
    email: Optional[EmailStr] = Field(default=None, description="Email address, if the text gives one.")


def trace(line: str) -> None:
    if TRACE:
        print(line, file=sys.stderr)


def main() -> None:
    mode_name, base_url, data_file = sys.argv[1], sys.argv[2], sys.argv[3]
    mode = getattr(instructor.Mode, mode_name)
    cases = [json.loads(line) for line in open(data_file) if line.strip()]
    calls = []

    def on_response(response) -> None:
        usage = getattr(response, "usage", None)
        calls.append(getattr(usage, "prompt_tokens", 0) or 0)
        choices = getattr(response, "choices", None) or [None]
        content = getattr(getattr(choices[0], "message", None), "content", None)
        trace(f"  call {len(calls)}: {calls[-1]} prompt tokens: {content!r}")

    def on_parse_error(error) -> None:
        trace(f"  -> {' '.join(str(error).split())[:300]}")

    client = instructor.from_openai(OpenAI(base_url=base_url, api_key="none"), mode=mode)
    client.on("completion:response", on_response)
    client.on("parse:error", on_parse_error)
    successes = 0
    right = {"name": 0, "age": 0, "email": 0}
    start = time.monotonic()
    for case in cases:
        trace(f"peer: {mode_name}: {case['id']}: {case['text']!r}")
        try:
            person = client.chat.completions.create(
                model="smollm2",
                response_model=Person,
                max_retries=2,
                temperature=0.0,
                max_tokens=256,  # as on the factum side
                messages=[{"role": "user", "content": case["text"]}],
            )
        except Exception as error:  # noqa: BLE001 - every failure counts as one
            print(f"{mode_name}: {case['id']}: {type(error).__name__}", file=sys.stderr)
            continue
        successes += 1
        expected = case["expected"]
        trace(f"  value {person.model_dump()}\n  expected {expected}")
        right["name"] += person.name == expected["name"]
        right["age"] += person.age == expected["age"]
        right["email"] += person.email == expected["email"]
    wall = time.monotonic() - start
    n = len(cases)
    print(json.dumps({
        "system": "instructor",
        "mode": mode_name,
        "items": n,
        "success_rate": successes / n,
        "calls_per_success": len(calls) / successes if successes else 0.0,
        "prompt_tokens_per_call": sum(calls) / len(calls) if calls else 0.0,
        "accuracy": {k: v / n for k, v in right.items()},
        "wall_secs": wall,
    }))


if __name__ == "__main__":
    main()
