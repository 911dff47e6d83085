"""The scenarios of AWS's public CloudFront Functions samples (github.com/aws-samples/
amazon-cloudfront-functions), each written here in our own words, run through the loader with
test events shaped like the samples' and the outcomes their READMEs describe:

- add-cors-header: "adds an Access-Control-Allow-Origin response header if it is not present",
  set to the Origin request header, logging "Access-Control-Allow-Origin was missing, adding it now."
- add-cache-control-header: a Cache-Control response header ("public, max-age=63072000;" in its output).
- verify-jwt / kvs-jwt-verify: a valid token passes with the jwt query parameter removed and
  "Valid JWT token" logged; an invalid or missing one gets 401 Unauthorized.
- kvs-key-value-pairs: the first path segment is replaced by its value in the key value store;
  unchanged when the key is not found.
- redirect-based-on-country: viewers in Germany are redirected to /de/index.html, others pass.
- url-rewrite-single-page-apps: URLs without an extension are rewritten to /index.html.
- select-origin-based-on-country: the origin is updated; the request itself passes unchanged
  ("The Test API ... don't test whether an origin modification has occurred").
- normalize-query-string-parameters: the query string is returned sorted, as a string.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from pathlib import Path

import pytest

from tests.cfjs.test_function_documents import errors

CORS = """\
function handler(event) {
  var response = event.response;
  var origin = event.request.headers.origin;
  if (!response.headers['access-control-allow-origin'] && origin) {
    response.headers['access-control-allow-origin'] = {value: origin.value};
    console.log('Access-Control-Allow-Origin was missing, adding it now.');
  }
  return response;
}
"""
CACHE = """\
function handler(event) {
  event.response.headers['cache-control'] = {value: 'public, max-age=63072000;'};
  return event.response;
}
"""
JWT = """\
import crypto from 'crypto';
import cf from 'cloudfront';
const unauthorized = {statusCode: 401, statusDescription: 'Unauthorized'};
function verify(token, secret) {
  const parts = token.split('.');
  if (parts.length !== 3) { throw new Error('wrong number of segments'); }
  const expected = crypto.createHmac('sha256', secret).update(parts[0] + '.' + parts[1]).digest('base64url');
  if (expected !== parts[2]) { throw new Error('Signature verification failed'); }
  const claims = JSON.parse(Buffer.from(parts[1], 'base64url').toString());
  if (claims.exp && Date.now() > claims.exp * 1000) { throw new Error('Token expired'); }
}
async function handler(event) {
  const request = event.request;
  let secret;
  try { secret = await cf.kvs().get('jwt.secret'); } catch (e) { return unauthorized; }
  if (!request.querystring.jwt) { console.log('Error: No JWT in the querystring'); return unauthorized; }
  try { verify(request.querystring.jwt.value, secret); } catch (e) { console.log(String(e)); return unauthorized; }
  delete request.querystring.jwt;
  console.log('Valid JWT token');
  return request;
}
"""
KVS_PATHS = """\
import cf from 'cloudfront';
const store = cf.kvs('a1b2c3d4-5678-90ab-cdef-EXAMPLE11111');
async function handler(event) {
  const request = event.request;
  const segments = request.uri.split('/');
  try {
    segments[1] = await store.get(segments[1]);
    request.uri = segments.join('/');
  } catch (err) {
    console.log(`${request.uri} | ${err}`);
  }
  return request;
}
"""
COUNTRY = """\
function handler(event) {
  var country = event.request.headers['cloudfront-viewer-country'];
  if (country && country.value === 'DE') {
    return {statusCode: 302, statusDescription: 'Found', headers: {location: {value: '/de/index.html'}}};
  }
  return event.request;
}
"""
SPA = """\
function handler(event) {
  var request = event.request;
  if (request.uri.lastIndexOf('.') <= request.uri.lastIndexOf('/')) { request.uri = '/index.html'; }
  return request;
}
"""
ORIGIN = """\
import cf from 'cloudfront';
function handler(event) {
  const country = event.request.headers['cloudfront-viewer-country'];
  const region = country && country.value === 'DE' ? 'eu-central-1' : 'us-east-1';
  cf.updateRequestOrigin({domainName: `bucket-in-${region}.s3.${region}.amazonaws.com`,
    originAccessControlConfig: {enabled: true, region: region, signingBehavior: 'always',
      signingProtocol: 'sigv4', originType: 's3'}});
  return event.request;
}
"""
NORMALIZE = """\
function handler(event) {
  var qs = [];
  for (var key in event.request.querystring) {
    var entry = event.request.querystring[key];
    (entry.multiValue || [entry]).forEach((v) => { qs.push(key + '=' + v.value); });
  }
  event.request.querystring = qs.sort().join('&');
  return event.request;
}
"""


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def token(secret: bytes, exp: int) -> str:
    head = _b64(json.dumps({"alg": "HS256", "typ": "JWT"}).encode())
    body = _b64(json.dumps({"sub": "1234567890", "exp": exp}).encode())
    return f"{head}.{body}.{_b64(hmac.new(secret, f'{head}.{body}'.encode(), hashlib.sha256).digest())}"


VALID = token(b"s3cret", 4102444800)  # expires in 2100
EXPIRED = token(b"s3cret", 1516239022)

RESPONSE_EVENT = ("{request: {method: GET, uri: /index.html, headers: {host: www.example.com, origin: "
                  "'https://www.example.com'}}, response: {statusCode: 200, statusDescription: OK, headers: "
                  "{server: CustomOriginServer, content-type: text/html}}}")

SCENARIOS = {
    "add-cors-header": ("cloudfront-js-1.0", "event: viewer-response\n", CORS, f"""\
  - name: adds the header from the Origin request header
    event: {RESPONSE_EVENT}
    expect: {{response: {{statusCode: 200, headers: {{access-control-allow-origin: {{value: 'https://www.example.com'}},
      server: {{value: CustomOriginServer}}}}}}}}
  - name: keeps one already there
    event: {{request: {{headers: {{origin: 'https://a.example'}}}},
      response: {{headers: {{access-control-allow-origin: '*'}}}}}}
    expect: {{response: {{headers: {{access-control-allow-origin: {{value: '*'}}}}}}}}
"""),
    "add-cache-control-header": ("cloudfront-js-2.0", "event: viewer-response\n", CACHE, f"""\
  - name: browser caching
    event: {RESPONSE_EVENT}
    expect: {{response: {{headers: {{cache-control: {{value: 'public, max-age=63072000;'}}}}}}}}
"""),
    "kvs-jwt-verify": ("cloudfront-js-2.0", "", JWT, f"""\
  - name: a valid token passes without the jwt parameter
    event: {{request: {{uri: /index.html, querystring: {{jwt: '{VALID}', test: anotherQueryString}}}}}}
    kvs: {{jwt.secret: s3cret}}
    expect: {{request: {{uri: /index.html, querystring: {{jwt: null, test: {{value: anotherQueryString}}}}}}}}
  - name: a forged token is unauthorized
    event: {{request: {{querystring: {{jwt: '{VALID[:-2]}xx'}}}}}}
    kvs: {{jwt.secret: s3cret}}
    expect: {{response: {{statusCode: 401, statusDescription: Unauthorized}}}}
  - name: an expired token is unauthorized
    event: {{request: {{querystring: {{jwt: '{EXPIRED}'}}}}}}
    kvs: {{jwt.secret: s3cret}}
    expect: {{response: {{statusCode: 401}}}}
  - name: no token is unauthorized
    event: {{request: {{uri: /}}}}
    kvs: {{jwt.secret: s3cret}}
    expect: {{response: {{statusCode: 401}}}}
"""),
    "kvs-key-value-pairs": ("cloudfront-js-2.0", "", KVS_PATHS, """\
  - name: the first segment is replaced by its value
    event: {request: {uri: /key1/something/else}}
    kvs: {key1: value1}
    expect: {request: {uri: /value1/something/else}}
  - name: unchanged when the key is not found
    event: {request: {uri: /other/page.html}}
    kvs: {key1: value1}
    expect: {request: {uri: /other/page.html}}
"""),
    "redirect-based-on-country": ("cloudfront-js-1.0", "", COUNTRY, """\
  - name: Germany goes to the German site
    event: {request: {uri: /index.html, headers: {cloudfront-viewer-country: DE}}}
    expect: {response: {statusCode: 302, headers: {location: {value: /de/index.html}}}}
  - name: elsewhere passes
    event: {request: {uri: /index.html, headers: {cloudfront-viewer-country: FR}}}
    expect: {request: {uri: /index.html}}
"""),
    "url-rewrite-single-page-apps": ("cloudfront-js-1.0", "", SPA, """\
  - name: a route is served by the app
    event: {request: {uri: /blog/post}}
    expect: {request: {uri: /index.html}}
  - name: a file is served as is
    event: {request: {uri: /static/app.js}}
    expect: {request: {uri: /static/app.js}}
"""),
    "select-origin-based-on-country": ("cloudfront-js-2.0", "", ORIGIN, """\
  - name: the request passes unchanged
    event: {request: {uri: /photo.jpg, headers: {cloudfront-viewer-country: DE}}}
    expect: {request: {uri: /photo.jpg}}
"""),
    "normalize-query-string-parameters": ("cloudfront-js-1.0", "", NORMALIZE, """\
  - name: sorted, as a string
    event: {request: {uri: /, querystring: {b: '2', a: {value: '1', multiValue: ['1', '3']}}}}
    expect: {request: {querystring: a=1&a=3&b=2}}
"""),
}


@pytest.mark.parametrize("sample", sorted(SCENARIOS))
def test_sample_scenario_passes(tmp_path: Path, sample: str) -> None:
    """Every test of the scenario passes at validate under the runtime the sample declares."""
    runtime, extra, code, tests = SCENARIOS[sample]
    yaml = f"kind: Function\nname: f\nruntime: {runtime}\ncode: f.js\n{extra}tests:\n{tests}"
    assert errors(tmp_path, yaml, code) == []


def test_origin_helpers_refused_in_viewer_response(tmp_path: Path) -> None:
    """"You can update the origin on viewer request CloudFront Functions only"."""
    tests = "  - name: t\n    event: {}\n    expect: {response: {}}\n"
    code = ("import cf from 'cloudfront';\nfunction handler(event) {\n"
            "  cf.selectRequestOriginById('o1');\n  return event.response;\n}\n")
    yaml = f"kind: Function\nname: f\nruntime: cloudfront-js-2.0\ncode: f.js\nevent: viewer-response\ntests:\n{tests}"
    (found,) = errors(tmp_path, yaml, code)
    assert "selectRequestOriginById() can be used in viewer-request functions only" in found
