"""A scripted Elasticsearch-style _bulk endpoint for the --format bulk tests,
on http_server.ScriptedServer (127.0.0.1, an ephemeral port).

Each request body is NDJSON pairs: an action line ({"index":{...}} or
{"create":{...}}) and a document. The fate of each document is scripted by
its "want" field: "400" is refused with a mapper_parsing_exception, "429" and
"503" are refused the first time that document is seen and stored the next,
anything else is stored. A document whose action carries an _id that is
already stored gets 409 on create (version_conflict_engine_exception) and is
overwritten on index. The response is what _bulk answers: 200 with
{"took":..,"errors":..,"items":[...]}. A body with a Content-Encoding (gzip
or zstd, from --compress) is decoded first, as Elasticsearch does with gzip.
"""

import json
import threading

import content_coding
from http_server import ScriptedServer


class BulkServer:
    def __init__(self):
        self._lock = threading.Lock()
        self.stored = []      # documents stored, as bytes, in order
        self.placed = []      # (the action's _index, document bytes) for each stored, in order
        self.by_id = {}       # _id -> document bytes
        self.seen = set()     # documents refused once with 429/503
        self.item_statuses = []
        self.server = ScriptedServer(default=self._answer)

    def url(self, path="/_bulk"):
        return self.server.url(path)

    def requests(self):
        return self.server.requests()

    def close(self):
        self.server.close()

    def _item(self, action, doc):
        verb, meta = next(iter(json.loads(action).items()))
        want = str(json.loads(doc).get("want", "")) if doc.startswith(b"{") else ""
        doc_id = meta.get("_id")
        if want == "400":
            return verb, 400, {"type": "mapper_parsing_exception",
                               "reason": "failed to parse field [want] of type [long]"}
        if want in ("429", "503") and doc not in self.seen:
            self.seen.add(doc)
            kind = "es_rejected_execution_exception" if want == "429" else "unavailable_shards_exception"
            return verb, int(want), {"type": kind, "reason": "try again"}
        if doc_id is not None and doc_id in self.by_id and verb == "create":
            return verb, 409, {"type": "version_conflict_engine_exception",
                               "reason": "[%s]: version conflict, document already exists" % doc_id}
        if doc_id is not None:
            self.by_id[doc_id] = doc
        self.stored.append(doc)
        self.placed.append((meta.get("_index"), doc))
        return verb, 201, None

    def _answer(self, index, request):
        lines = content_coding.request_body(request).split(b"\n")
        if lines and lines[-1] == b"":
            lines.pop()
        if len(lines) % 2:
            return ("status", 400, {}, b'{"error":"the bulk request must be terminated by a newline"}')
        items = []
        with self._lock:
            for action, doc in zip(lines[0::2], lines[1::2]):
                verb, status, error = self._item(action, doc)
                self.item_statuses.append(status)
                result = {"_index": "t", "status": status}
                if error:
                    result["error"] = error
                items.append({verb: result})
        errors = any(next(iter(i.values()))["status"] >= 300 for i in items)
        body = json.dumps({"took": 1, "errors": errors, "items": items}).encode()
        return ("status", 200, {"Content-Type": "application/json"}, body)
