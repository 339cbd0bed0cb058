#!/usr/bin/env python3
"""openapi_check.py -- hold an OpenAPI 3.1 description to the answers seen.

usage: openapi_check.py --lint OPENAPI.yaml
       openapi_check.py OPENAPI.yaml RECORD.jsonl...
       openapi_check.py --seen OPENAPI.yaml [RECORD.jsonl...]

--lint checks that the description is a well-formed OpenAPI 3.1 document
as far as this program reads it: required members, resolvable $refs,
declared path parameters, known security schemes, and schemas that use
only the keywords validated here (a keyword it would ignore is an error,
so the description cannot promise what nobody checks).

Otherwise each RECORD holds one JSON object per line, written by
tests/integration/apirecord.sh for every request a test made: method,
url, status, raw response headers and body, request Content-Type and
body.  Both ways are checked:

  - every answer seen is described: its status is one of its operation's
    responses, its headers are declared (transport headers such as Date
    aside) and valid, and its body has a declared media type and, for
    JSON, validates against the schema (required members, no undeclared
    ones, types, constants, patterns);
  - everything described was seen: every path, method and status, every
    JSON member of every response body, every request member, every
    header (an optional one at least once with that status somewhere).

The output is TAP without numbers ("ok - NAME", "not ok - NAME" and
"# DIAGNOSTIC" lines), one line per operation and status; the exit
status is 0 only if every line is "ok".  Needs PyYAML (python3-yaml).

--seen checks only the first way, over the answers of any test (lib.sh
records every answer its requests receive), in one line.  A test also
sees answers that are not the API's, and those are left out, counted in
a diagnostic:

  - no answer at all (status 0: curl got none);
  - an answer to a URL under no server of the description (a path
    outside the mount point, the mount point itself without its slash,
    the protected application);
  - an answer of the web server itself: one with neither
    `Content-Type: application/json` nor `Cache-Control: no-store`
    (mdauthd puts both on every answer, HEAD included), unless the
    description gives that status of that operation a media type other
    than JSON (lighttpd's HTML 411, which the description names).
    Such are a proxy's 502 or 504 while the daemon is down and nginx's
    HTML 413.

Every other answer is checked as above: an answer of mdauthd that the
description does not cover fails, whatever its status.  A missing RECORD
file counts as no answers.
"""

import json
import re
import sys
from urllib.parse import urlsplit

import yaml

METHODS = ("get", "put", "post", "delete", "options", "head", "patch", "trace")
PATH_ITEM_KEYS = {"summary", "description", "servers", "parameters"} | set(METHODS)
OPERATION_KEYS = {"tags", "summary", "description", "externalDocs", "operationId",
                  "parameters", "requestBody", "responses", "callbacks",
                  "deprecated", "security", "servers"}
# The schema keywords validated below, and annotations.
SCHEMA_KEYS = {"type", "properties", "required", "additionalProperties", "items",
               "const", "enum", "pattern", "minimum", "maximum", "minLength",
               "maxLength", "$ref", "description", "title", "format", "examples",
               "default"}
JSON_TYPES = {"null", "boolean", "object", "array", "number", "string", "integer"}
# Headers of the transport or of the web server, not of the API
# (Content-Type is held to the media types of "content" instead;
# lighttpd adds Accept-Ranges to every 200).
TRANSPORT_HEADERS = {"date", "server", "content-length", "connection", "keep-alive",
                     "transfer-encoding", "content-type", "accept-ranges"}
UNKNOWN_PATH = "x-mdauth-unknown-path"
OTHER_METHODS = "x-mdauth-other-methods"


class Spec:
    """The description, with $ref resolution."""

    def __init__(self, path):
        with open(path, encoding="utf-8") as f:
            self.doc = yaml.safe_load(f)

    def pointer(self, ref):
        if not isinstance(ref, str) or not ref.startswith("#/"):
            raise KeyError("only local references are supported: %r" % (ref,))
        node = self.doc
        for part in ref[2:].split("/"):
            part = part.replace("~1", "/").replace("~0", "~")
            if not isinstance(node, dict) or part not in node:
                raise KeyError("unresolvable $ref %s" % ref)
            node = node[part]
        return node

    def resolve(self, node):
        seen = set()
        while isinstance(node, dict) and "$ref" in node:
            ref = node["$ref"]
            if ref in seen:
                raise KeyError("$ref cycle at %s" % ref)
            seen.add(ref)
            node = self.pointer(ref)
        return node


# ---------------------------------------------------------------------------
# Lint

def lint(spec):
    """Return a list of problems with the document's structure."""
    errs = []
    doc = spec.doc

    def need(cond, msg):
        if not cond:
            errs.append(msg)
        return cond

    if not need(isinstance(doc, dict), "the document is not a mapping"):
        return errs
    need(re.fullmatch(r"3\.1\.\d+", str(doc.get("openapi", ""))) is not None,
         "openapi is not 3.1.x")
    info = doc.get("info")
    need(isinstance(info, dict) and isinstance(info.get("title"), str) and
         isinstance(info.get("version"), str), "info needs a title and a version")
    servers = doc.get("servers")
    if need(isinstance(servers, list) and servers, "no servers"):
        for s in servers:
            url = s.get("url", "") if isinstance(s, dict) else ""
            need(url, "a server without url")
            for var in re.findall(r"\{([^}]*)\}", url):
                v = (s.get("variables") or {}).get(var)
                need(isinstance(v, dict) and "default" in v,
                     "server %s: variable %s has no default" % (url, var))

    # Every $ref anywhere resolves.
    def walk_refs(node, where):
        if isinstance(node, dict):
            if "$ref" in node:
                try:
                    spec.pointer(node["$ref"])
                except KeyError as e:
                    errs.append("%s: %s" % (where, e))
            for k, v in node.items():
                walk_refs(v, "%s/%s" % (where, k))
        elif isinstance(node, list):
            for i, v in enumerate(node):
                walk_refs(v, "%s/%d" % (where, i))
    walk_refs(doc, "#")
    if errs:
        return errs

    schemes = (doc.get("components") or {}).get("securitySchemes") or {}
    for name, s in schemes.items():
        s = spec.resolve(s)
        need(isinstance(s, dict) and s.get("type") in
             ("apiKey", "http", "mutualTLS", "oauth2", "openIdConnect"),
             "securitySchemes/%s: bad type" % name)
        if s.get("type") == "http":
            need(isinstance(s.get("scheme"), str), "securitySchemes/%s: no scheme" % name)

    op_ids = set()
    paths = doc.get("paths")
    if not need(isinstance(paths, dict) and paths, "no paths"):
        return errs
    for template, item in paths.items():
        where = "paths/%s" % template
        need(isinstance(template, str) and template.startswith("/"),
             "%s: a path must start with /" % where)
        if not need(isinstance(item, dict), "%s: not a mapping" % where):
            continue
        for k in item:
            need(k in PATH_ITEM_KEYS or str(k).startswith("x-"),
                 "%s: unknown member %s" % (where, k))
        names = set(re.findall(r"\{([^}]*)\}", template))
        ops = [m for m in METHODS if m in item]
        need(ops, "%s: no operation" % where)
        for m in ops:
            op = item[m]
            ow = "%s/%s" % (where, m)
            if not need(isinstance(op, dict), "%s: not a mapping" % ow):
                continue
            for k in op:
                need(k in OPERATION_KEYS or str(k).startswith("x-"),
                     "%s: unknown member %s" % (ow, k))
            oid = op.get("operationId")
            if oid is not None:
                need(oid not in op_ids, "%s: operationId %s twice" % (ow, oid))
                op_ids.add(oid)
            declared = set()
            for p in (item.get("parameters") or []) + (op.get("parameters") or []):
                p = spec.resolve(p)
                need(isinstance(p, dict) and p.get("in") in
                     ("path", "query", "header", "cookie") and "name" in p,
                     "%s: a parameter needs name and in" % ow)
                if p.get("in") == "path":
                    need(p.get("required") is True,
                         "%s: path parameter %s must be required" % (ow, p.get("name")))
                    declared.add(p.get("name"))
                if "schema" in p:
                    lint_schema(spec, p["schema"], "%s/parameters/%s" % (ow, p.get("name")), errs)
            need(declared == names, "%s: path parameters %s, declared %s" %
                 (ow, sorted(names), sorted(declared)))
            for req in op.get("security") or []:
                for name in req:
                    need(name in schemes, "%s: unknown security scheme %s" % (ow, name))
            if "requestBody" in op:
                rb = spec.resolve(op["requestBody"])
                if need(isinstance(rb, dict) and isinstance(rb.get("content"), dict),
                        "%s: requestBody without content" % ow):
                    lint_content(spec, rb["content"], ow + "/requestBody", errs)
            lint_responses(spec, op.get("responses"), ow, errs)
        if OTHER_METHODS in item:
            lint_responses(spec, (item[OTHER_METHODS] or {}).get("responses"),
                           "%s/%s" % (where, OTHER_METHODS), errs)
    if UNKNOWN_PATH in doc:
        lint_responses(spec, (doc[UNKNOWN_PATH] or {}).get("responses"), UNKNOWN_PATH, errs)
    for name, sch in ((doc.get("components") or {}).get("schemas") or {}).items():
        lint_schema(spec, sch, "components/schemas/%s" % name, errs)
    return errs


def lint_responses(spec, responses, where, errs):
    if not isinstance(responses, dict) or not responses:
        errs.append("%s: no responses" % where)
        return
    for code, r in responses.items():
        rw = "%s/responses/%s" % (where, code)
        if not (isinstance(code, str) and re.fullmatch(r"[1-5][0-9][0-9]", code)):
            errs.append("%s: a status must be a quoted three-digit string" % rw)
        r = spec.resolve(r)
        if not isinstance(r, dict) or not isinstance(r.get("description"), str):
            errs.append("%s: a response needs a description" % rw)
            continue
        for name, h in (r.get("headers") or {}).items():
            h = spec.resolve(h)
            if not isinstance(h, dict) or "schema" not in h:
                errs.append("%s/headers/%s: a header needs a schema" % (rw, name))
            else:
                lint_schema(spec, h["schema"], "%s/headers/%s" % (rw, name), errs)
        if "content" in r:
            lint_content(spec, r["content"], rw, errs)


def lint_content(spec, content, where, errs):
    if not isinstance(content, dict) or not content:
        errs.append("%s: empty content" % where)
        return
    for media, mt in content.items():
        if not isinstance(mt, dict) or "schema" not in mt:
            errs.append("%s/content/%s: no schema" % (where, media))
        else:
            lint_schema(spec, mt["schema"], "%s/content/%s" % (where, media), errs)


def lint_schema(spec, schema, where, errs, depth=0):
    if depth > 20:
        errs.append("%s: schema nested too deeply" % where)
        return
    if not isinstance(schema, dict):
        errs.append("%s: a schema must be a mapping" % where)
        return
    if "$ref" in schema:
        if len(schema) > 1 and set(schema) - {"$ref", "description"}:
            errs.append("%s: keywords beside $ref are not validated here" % where)
        lint_schema(spec, spec.resolve(schema), where, errs, depth + 1)
        return
    for k in schema:
        if k not in SCHEMA_KEYS:
            errs.append("%s: keyword %s is not validated by this checker" % (where, k))
    types = schema.get("type")
    if types is not None:
        tl = types if isinstance(types, list) else [types]
        for t in tl:
            if t not in JSON_TYPES:
                errs.append("%s: unknown type %r" % (where, t))
    if "pattern" in schema:
        try:
            re.compile(schema["pattern"])
        except re.error as e:
            errs.append("%s: bad pattern: %s" % (where, e))
    props = schema.get("properties") or {}
    for r in schema.get("required") or []:
        if r not in props:
            errs.append("%s: required %s is not a property" % (where, r))
    ap = schema.get("additionalProperties", True)
    if not isinstance(ap, bool):
        errs.append("%s: additionalProperties must be true or false here" % where)
    for name, sub in props.items():
        lint_schema(spec, sub, "%s/%s" % (where, name), errs, depth + 1)
    if "items" in schema:
        lint_schema(spec, schema["items"], where + "/[]", errs, depth + 1)


# ---------------------------------------------------------------------------
# Validation, with the members seen

def json_type_ok(t, v):
    if t == "null":
        return v is None
    if t == "boolean":
        return isinstance(v, bool)
    if t == "integer":
        return isinstance(v, int) and not isinstance(v, bool)
    if t == "number":
        return isinstance(v, (int, float)) and not isinstance(v, bool)
    if t == "string":
        return isinstance(v, str)
    if t == "array":
        return isinstance(v, list)
    if t == "object":
        return isinstance(v, dict)
    return False


def same_json(a, b):
    return type(a) is type(b) and a == b or \
        (isinstance(a, (int, float)) and isinstance(b, (int, float)) and
         not isinstance(a, bool) and not isinstance(b, bool) and a == b)


def validate(spec, schema, value, where, errs, seen, prefix=""):
    """Validate value; add each member path seen ("a", "a[].b") to seen."""
    schema = spec.resolve(schema)
    types = schema.get("type")
    if types is not None:
        tl = types if isinstance(types, list) else [types]
        if not any(json_type_ok(t, value) for t in tl):
            errs.append("%s: %s is not of type %s" % (where, json.dumps(value), "/".join(tl)))
            return
    if "const" in schema and not same_json(schema["const"], value):
        errs.append("%s: %s is not %s" % (where, json.dumps(value), json.dumps(schema["const"])))
    if "enum" in schema and not any(same_json(e, value) for e in schema["enum"]):
        errs.append("%s: %s is not one of %s" % (where, json.dumps(value), json.dumps(schema["enum"])))
    if isinstance(value, str):
        if "pattern" in schema and not re.search(schema["pattern"], value):
            errs.append("%s: %s does not match %s" % (where, json.dumps(value), schema["pattern"]))
        if len(value) < schema.get("minLength", 0):
            errs.append("%s: shorter than %d" % (where, schema["minLength"]))
        if "maxLength" in schema and len(value) > schema["maxLength"]:
            errs.append("%s: longer than %d" % (where, schema["maxLength"]))
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        if "minimum" in schema and value < schema["minimum"]:
            errs.append("%s: %s is below %s" % (where, value, schema["minimum"]))
        if "maximum" in schema and value > schema["maximum"]:
            errs.append("%s: %s is above %s" % (where, value, schema["maximum"]))
    if isinstance(value, dict):
        props = schema.get("properties") or {}
        for r in schema.get("required") or []:
            if r not in value:
                errs.append("%s: required member %s is missing" % (where, r))
        for k, v in value.items():
            if k in props:
                seen.add(prefix + k)
                validate(spec, props[k], v, "%s.%s" % (where, k), errs, seen, prefix + k + ".")
            elif schema.get("additionalProperties", True) is False:
                errs.append("%s: member %s is not described" % (where, k))
    if isinstance(value, list) and "items" in schema:
        for i, v in enumerate(value):
            validate(spec, schema["items"], v, "%s[%d]" % (where, i), errs, seen,
                     prefix.rstrip(".") + "[]." if prefix else "[].")


def declared_members(spec, schema, prefix="", depth=0):
    """Every member path a schema declares, as validate() names them."""
    schema = spec.resolve(schema)
    out = set()
    if depth > 20:
        return out
    for k, sub in (schema.get("properties") or {}).items():
        out.add(prefix + k)
        out |= declared_members(spec, sub, prefix + k + ".", depth + 1)
    if "items" in schema:
        out |= declared_members(spec, schema["items"],
                                prefix.rstrip(".") + "[]." if prefix else "[].", depth + 1)
    return out


# ---------------------------------------------------------------------------
# Answers

def parse_headers(raw):
    """The last header block of curl -D output: [(lowercase name, value)]."""
    blocks, cur = [], None
    for line in raw.replace("\r", "").split("\n"):
        if line.startswith("HTTP/"):
            cur = []
            blocks.append(cur)
        elif cur is not None and ":" in line:
            name, value = line.split(":", 1)
            cur.append((name.strip().lower(), value.strip()))
    return blocks[-1] if blocks else []


def header_value_ok(spec, schema, value, where, errs):
    schema = spec.resolve(schema)
    tl = schema.get("type")
    tl = tl if isinstance(tl, list) else [tl] if tl else []
    v = value
    if "integer" in tl and re.fullmatch(r"-?[0-9]+", value):
        v = int(value)
    validate(spec, schema, v, where, errs, set())


class Checker:
    def __init__(self, spec):
        self.spec = spec
        doc = spec.doc
        self.bases = []
        for s in doc["servers"]:
            u = urlsplit(re.sub(r"\{[^}]*\}", "host", s["url"]))
            self.bases.append((u.scheme, u.path.rstrip("/")))
        # Exact templates first (OpenAPI: concrete paths win).
        self.templates = sorted(doc["paths"], key=lambda t: ("{" in t, t))
        # (key, status) -> {"n": answers, "errs": [...]}; key is (label, template, method)
        self.results = {}
        self.undescribed = []     # (label, diagnostics)
        self.headers_seen = set()  # (key, status, name)
        self.optional_seen = set()  # (status, name)
        self.members_seen = {}    # (key, status) -> set
        self.request_seen = {}    # key -> set
        self.responses = {}       # (key, status) -> response object
        for t in doc["paths"]:
            item = doc["paths"][t]
            for m in METHODS:
                if m in item:
                    self.add_responses((m.upper(), t), item[m]["responses"])
            if OTHER_METHODS in item:
                self.add_responses(("other methods", t), item[OTHER_METHODS]["responses"])
        if UNKNOWN_PATH in doc:
            self.add_responses(("any method", "an unknown path"), doc[UNKNOWN_PATH]["responses"])

    def add_responses(self, key, responses):
        for code, r in responses.items():
            self.responses[(key, code)] = self.spec.resolve(r)
            self.results[(key, code)] = {"n": 0, "errs": []}
            self.members_seen[(key, code)] = set()

    def locate(self, method, path):
        """(key, operation or None, path item or None) of a request path."""
        for t in self.templates:
            rx = "^" + re.sub(r"\\\{[^}]*\\\}", "[^/]+", re.escape(t)) + "$"
            if re.match(rx, path):
                item = self.spec.doc["paths"][t]
                if method.lower() in item:
                    return (method, t), item[method.lower()], item
                return ("other methods", t), None, item
        return ("any method", "an unknown path"), None, None

    def api_path(self, url):
        """The path below the server URL url is under, or None.  The mount
        point itself (/api/auth without a slash) is not below it: the web
        server may serve it otherwise (Apache asks mdauthd's authorizer
        role, as for the rest of /api/)."""
        u = urlsplit(url)
        for scheme, base in self.bases:
            if u.scheme == scheme and u.path.startswith(base + "/"):
                return u.path[len(base):]
        return None

    def out_of_scope(self, rec):
        """Why an answer is not one of the API's (see --seen), or None."""
        if not rec["status"]:
            return "no answer"
        path = self.api_path(rec["url"])
        if path is None:
            return "outside the API"
        headers = dict(parse_headers(rec.get("headers", "")))
        media = headers.get("content-type", "").split(";")[0].strip().lower()
        if media == "application/json" or headers.get("cache-control") == "no-store":
            return None
        key = self.locate(rec["method"].upper(), path)[0]
        resp = self.responses.get((key, str(rec["status"])))
        if resp is not None and any(m.lower() != "application/json"
                                    for m in resp.get("content") or {}):
            return None
        return "the web server's own"

    def answer(self, rec):
        method = rec["method"].upper()
        label = "%s %s -> %s" % (method, rec["url"], rec["status"])
        path = self.api_path(rec["url"])
        if path is None:
            self.undescribed.append((label, ["the URL is under no server of the description"]))
            return
        key, op, item = self.locate(method, path)
        status = str(rec["status"])
        if (key, status) not in self.results:
            self.undescribed.append((label, ["status %s is not described for %s %s" %
                                             (status, key[0], key[1])] +
                                     self.show(rec)))
            return
        res = self.results[(key, status)]
        res["n"] += 1
        errs = []
        resp = self.responses[(key, status)]
        headers = parse_headers(rec.get("headers", ""))
        names = {n for n, _ in headers}
        declared = {n.lower(): self.spec.resolve(h)
                    for n, h in (resp.get("headers") or {}).items()}
        for n, h in declared.items():
            values = [v for hn, v in headers if hn == n]
            if not values:
                if h.get("required"):
                    errs.append("header %s is missing" % n)
                continue
            self.headers_seen.add((key, status, n))
            if not h.get("required"):
                self.optional_seen.add((status, n))
            for v in values:
                header_value_ok(self.spec, h["schema"], v, "header %s" % n, errs)
        for n in names - set(declared) - TRANSPORT_HEADERS:
            errs.append("header %s is not described" % n)
        if key[0] == "other methods" and "allow" in names:
            allow = {m.strip().lower() for m in dict(headers)["allow"].split(",")}
            have = {m for m in METHODS if m in item}
            if allow != have:
                errs.append("Allow lists %s, the path has %s" %
                            (sorted(allow), sorted(have)))
        body = rec.get("body", "")
        content = resp.get("content")
        ctype = dict(headers).get("content-type", "")
        media = ctype.split(";")[0].strip().lower()
        if method == "HEAD" or content is None:
            if body != "":
                errs.append("a body where none is described")
        elif body == "":
            errs.append("no body, but one is described")
        elif media not in {m.lower() for m in content}:
            errs.append("Content-Type %r is not described" % ctype)
        elif media == "application/json" or media.endswith("+json"):
            try:
                value = json.loads(body)
            except ValueError as e:
                errs.append("the body is not JSON: %s" % e)
            else:
                schema = {m.lower(): c for m, c in content.items()}[media]["schema"]
                validate(self.spec, schema, value, "body", errs,
                         self.members_seen[(key, status)])
        if op is not None and status.startswith("2"):
            self.request(rec, key, op, errs)
        if errs:
            res["errs"].append((label, errs + self.show(rec)))

    def request(self, rec, key, op, errs):
        """A request that succeeded: its body matches the description."""
        rb = self.spec.resolve(op.get("requestBody")) if "requestBody" in op else None
        body = rec.get("request_body", "")
        seen = self.request_seen.setdefault(key, set())
        if body == "":
            if rb is not None and rb.get("required"):
                errs.append("the request had no body, which is required")
            return
        if rb is None:
            errs.append("the request had a body; none is described")
            return
        media = rec.get("request_type", "").split(";")[0].strip().lower()
        content = {m.lower(): c for m, c in rb["content"].items()}
        if media not in content:
            errs.append("request Content-Type %r is not described" % media)
            return
        if media == "application/json":
            try:
                value = json.loads(body)
            except ValueError:
                if self.spec.resolve(content[media]["schema"]):
                    errs.append("the request body is not JSON")
                return
            validate(self.spec, content[media]["schema"], value, "request", errs, seen)

    @staticmethod
    def show(rec):
        return ["headers: " + " | ".join("%s: %s" % hv for hv in parse_headers(rec.get("headers", ""))),
                "body: " + rec.get("body", "")[:300]]

    def report(self):
        """TAP lines; returns True if all passed."""
        good = True

        def line(ok, name, diags=()):
            nonlocal good
            print("%s - %s" % ("ok" if ok else "not ok", name))
            for d in diags:
                for dl in str(d).split("\n"):
                    print("# " + dl)
            good = good and ok

        for (key, status), res in self.results.items():
            resp = self.responses[(key, status)]
            diags = []
            if res["n"] == 0:
                diags.append("never seen")
            for label, errs in res["errs"]:
                diags.append(label)
                diags += ["  " + e for e in errs]
            if res["n"]:
                for n, h in (resp.get("headers") or {}).items():
                    h = self.spec.resolve(h)
                    n = n.lower()
                    if not h.get("required") and (status, n) not in self.optional_seen:
                        diags.append("optional header %s never seen with status %s" % (n, status))
                method = key[0]
                content = resp.get("content") or {}
                mt = content.get("application/json")
                if mt is not None and method != "HEAD":
                    missing = declared_members(self.spec, mt["schema"]) - \
                        self.members_seen[(key, status)]
                    if missing:
                        diags.append("members never seen: " + ", ".join(sorted(missing)))
            line(not diags, "%s %s %s: %d answer%s, as described" %
                 (key[0], key[1], status, res["n"], "" if res["n"] == 1 else "s"), diags)
        for t, item in self.spec.doc["paths"].items():
            for m in METHODS:
                if m not in item or "requestBody" not in item[m]:
                    continue
                rb = self.spec.resolve(item[m]["requestBody"])
                mt = rb["content"].get("application/json")
                if mt is None:
                    continue
                want = declared_members(self.spec, mt["schema"])
                got = self.request_seen.get((m.upper(), t), set())
                line(want <= got, "%s %s: every request member was sent in a request "
                     "that succeeded (%s)" % (m.upper(), t, ", ".join(sorted(want)) or "none"),
                     ["never sent: " + ", ".join(sorted(want - got))] if want - got else [])
        for label, errs in self.undescribed:
            line(False, "%s is described" % label, errs)
        return good


def seen(argv):
    """--seen OPENAPI.yaml [RECORD.jsonl...]: one TAP line."""
    name = "every API answer seen is described in %s" % argv[0]
    spec = Spec(argv[0])
    errs = lint(spec)
    if errs:
        print("not ok - " + name)
        print("# %s is not a well-formed OpenAPI 3.1 description:" % argv[0])
        for e in errs:
            print("# " + e)
        return 1
    checker = Checker(spec)
    checked = 0
    skipped = {}
    for path in argv[1:]:
        try:
            f = open(path, encoding="utf-8", errors="replace")
        except FileNotFoundError:
            continue
        with f:
            for line in f:
                if not line.strip():
                    continue
                rec = json.loads(line)
                why = checker.out_of_scope(rec)
                if why is None:
                    checker.answer(rec)
                    checked += 1
                else:
                    s = skipped.setdefault(why, {})
                    s[str(rec["status"])] = s.get(str(rec["status"]), 0) + 1
    diags = []
    for (key, status), res in checker.results.items():
        for label, errs in res["errs"]:
            diags.append(label)
            diags += ["  " + e for e in errs]
    for label, errs in checker.undescribed:
        diags.append(label + " is not described")
        diags += ["  " + e for e in errs]
    print("%s - %s" % ("not ok" if diags else "ok", name))
    for d in diags:
        for dl in str(d).split("\n"):
            print("# " + dl)
    summary = "%d answer%s of the API checked" % (checked, "" if checked == 1 else "s")
    for why in sorted(skipped):
        summary += "; left out, %s: %s" % (why, ", ".join(
            "%s x%d" % (st, n) for st, n in sorted(skipped[why].items())))
    print("# " + summary)
    return 1 if diags else 0


def main(argv):
    if len(argv) >= 3 and argv[1] == "--seen":
        return seen(argv[2:])
    if len(argv) == 3 and argv[1] == "--lint":
        spec = Spec(argv[2])
        errs = lint(spec)
        print("%s - %s is a well-formed OpenAPI 3.1 description" %
              ("not ok" if errs else "ok", argv[2]))
        for e in errs:
            print("# " + e)
        return 1 if errs else 0
    if len(argv) < 3:
        print(__doc__.split("\n\n")[1], file=sys.stderr)
        return 2
    spec = Spec(argv[1])
    errs = lint(spec)
    if errs:
        print("not ok - %s is a well-formed OpenAPI 3.1 description" % argv[1])
        for e in errs:
            print("# " + e)
        return 1
    checker = Checker(spec)
    n = 0
    for path in argv[2:]:
        with open(path, encoding="utf-8", errors="replace") as f:
            for line in f:
                if line.strip():
                    checker.answer(json.loads(line))
                    n += 1
    if n == 0:
        print("not ok - the record holds answers")
        return 1
    return 0 if checker.report() else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv))
