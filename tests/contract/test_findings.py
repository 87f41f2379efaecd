"""What the contract run (.ci/contract, Schemathesis) found wrong in the API itself, kept fixed."""


def _an_assignment(client, headers) -> int:
    return client.get("/api/v1/assignments?page_size=1&status=not_started", headers=headers).get_json()[0]["id"]


def test_an_empty_if_match_tag_is_stale_not_a_server_error(client, auth):
    """`If-Match: ""` names no version: 412 like any tag that is not the current one (it was a 500)."""
    headers = auth("admin")
    assignment_id = _an_assignment(client, headers)
    before = client.get(f"/api/v1/assignments/{assignment_id}", headers=headers).get_json()
    changed = client.patch(f"/api/v1/assignments/{assignment_id}", json={"progress": 5}, headers={**headers, "If-Match": '""'})
    moved = client.post(f"/api/v1/assignments/{assignment_id}/transitions", json={"to": "in_progress"},
                        headers={**headers, "If-Match": '""'})
    for answer in (changed, moved):
        assert answer.status_code == 412, answer.get_json()
        assert answer.get_json()["code"] == "assignment.stale"
    assert client.get(f"/api/v1/assignments/{assignment_id}", headers=headers).get_json() == before
