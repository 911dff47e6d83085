"""The built-in modules and globals of each runtime, against published outcomes: the digests are
the test vectors of RFC 1321 (MD5), FIPS 180-2 (SHA-1, SHA-256), RFC 2202 and RFC 4231 (HMAC);
the querystring examples are those of AWS's runtime pages.
"""

from __future__ import annotations

import re

import pytest

from tests.cfjs.helpers import V1, V2, probe

BOTH = [V1, V2]


@pytest.mark.parametrize("runtime", BOTH)
@pytest.mark.parametrize(("algorithm", "data", "hexdigest"), [
    ("md5", "abc", "900150983cd24fb0d6963f7d28e17f72"),
    ("sha1", "abc", "a9993e364706816aba3e25717850c26c9cd0d89d"),
    ("sha256", "abc", "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"),
    ("sha256", "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq",
     "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1"),
])
def test_hash_vectors(runtime: str, algorithm: str, data: str, hexdigest: str) -> None:
    """createHash(md5|sha1|sha256).update(data).digest('hex')."""
    body = f"return require('crypto').createHash('{algorithm}').update('{data}').digest('hex');"
    assert probe(runtime, body) == hexdigest


@pytest.mark.parametrize("runtime", BOTH)
@pytest.mark.parametrize(("algorithm", "hexdigest"), [
    ("md5", "750c783e6ab0b503eaa86e310a5db738"),
    ("sha1", "effcdf6ae5eb2fa2d27416d5f184df9c259a7c79"),
    ("sha256", "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"),
])
def test_hmac_vectors(runtime: str, algorithm: str, hexdigest: str) -> None:
    """createHmac with key 'Jefe' over 'what do ya want for nothing?' (RFC 2202 / RFC 4231 case 2)."""
    body = (f"return require('crypto').createHmac('{algorithm}', 'Jefe')"
            ".update('what do ya want for nothing?').digest('hex');")
    assert probe(runtime, body) == hexdigest


@pytest.mark.parametrize("runtime", BOTH)
def test_digest_encodings(runtime: str) -> None:
    """base64 and base64url of the SHA-256 of 'abc' (the hex vector above, re-encoded)."""
    body = ("var c = require('crypto');"
            "return c.createHash('sha256').update('abc').digest('base64') + ' ' +"
            " c.createHash('sha256').update('abc').digest('base64url');")
    assert probe(runtime, body) == ("ungWv48Bz+pBQUDeXa4iI7ADYaOWF3qctBD/YfIAFa0= "
                                    "ungWv48Bz-pBQUDeXa4iI7ADYaOWF3qctBD_YfIAFa0")


def test_digest_without_encoding_is_a_byte_string_in_1_0() -> None:
    """1.0: no encoding gives the raw bytes as a string (2.0 changed that to a Buffer)."""
    body = ("var d = require('crypto').createHash('md5').update('abc').digest();"
            " return typeof d + ' ' + d.length + ' ' + d.charCodeAt(0);")
    assert probe(V1, body) == "string 16 144"


def test_digest_without_encoding_is_a_buffer_in_2_0() -> None:
    """2.0: "hash.digest() - Return type is changed to Buffer if no encoding is provided"."""
    body = ("var d = require('crypto').createHmac('sha256', 'Jefe').update('what do ya want for nothing?').digest();"
            " return Buffer.isBuffer(d) + ' ' + d.toString('hex');")
    assert probe(V2, body) == "true 5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"


@pytest.mark.parametrize("runtime", BOTH)
def test_querystring_examples_from_the_pages(runtime: str) -> None:
    """parse('name=value&abc=xyz&abc=123') and stringify({name, abc: [...], anotherName: ''})."""
    body = ("var qs = require('querystring');"
            "return JSON.stringify(qs.parse('name=value&abc=xyz&abc=123')) + ' ' +"
            " qs.stringify({name: 'value', abc: ['xyz', '123'], anotherName: ''});")
    assert probe(runtime, body) == '{"name":"value","abc":["xyz","123"]} name=value&abc=xyz&abc=123&anotherName='


@pytest.mark.parametrize("runtime", BOTH)
def test_querystring_options(runtime: str) -> None:
    """separator, equal, maxKeys, the decode/encode aliases, escape/unescape and U+FFFD."""
    body = ("var qs = require('querystring');"
            "return [JSON.stringify(qs.decode('a:1;b:2;c:3', ';', ':', {maxKeys: 2})),"
            " qs.encode({a: 'x y', b: 'é'}, ';', ':'), qs.unescape('%E2%82%AC'), qs.escape('a b&c'),"
            " JSON.stringify(qs.parse('x=%FF'))].join(' | ');")
    assert probe(runtime, body) == '{"a":"1","b":"2"} | a:x%20y;b:%C3%A9 | € | a%20b%26c | {"x":"\ufffd"}'


def test_buffer_in_2_0() -> None:
    """The Buffer methods of the 2.0 page: from/toString in the four encodings, alloc, concat, compare."""
    body = ("var b = Buffer.from('aGVsbG8', 'base64url');"
            "return [b.toString(), b.toString('hex'), Buffer.from('68656c6c6f', 'hex').toString('base64'),"
            " Buffer.alloc(3, 'ab').toString(), Buffer.concat([Buffer.from('a'), Buffer.from('b')]).toString(),"
            " Buffer.compare(Buffer.from('a'), Buffer.from('b')), Buffer.byteLength('é'), Buffer.isEncoding('utf8'),"
            " require('buffer').Buffer === Buffer, b.readUInt16BE(0), JSON.stringify(Buffer.from([1, 2]))].join(' ');")
    assert probe(V2, body) == 'hello 68656c6c6f aGVsbG8= aba ab -1 2 true true 26725 {"type":"Buffer","data":[1,2]}'


def test_string_byte_methods_in_1_0_only() -> None:
    """1.0's nonstandard String methods; 2.0 does not have them."""
    body = ("return [String.bytesFrom('68656c6c6f', 'hex'), String.bytesFrom([104, 105]), 'é'.toUTF8().length,"
            " '\\u00c3\\u00a9'.fromUTF8(), 'é€'.toBytes(), 'ab'.fromBytes(),"
            " '\\u00ff'.fromUTF8()].map(String).join(' ');")
    assert probe(V1, body) == "hello hi 2 é null ab null"
    absent = probe(V2, "return typeof String.bytesFrom + typeof ''.toUTF8 + typeof ''.fromUTF8;")
    assert absent == "undefinedundefinedundefined"


@pytest.mark.parametrize(("runtime", "expected"), [
    (V1, "undefined undefined undefined undefined undefined function function"),
    (V2, "function function function function function function function"),
])
def test_globals_of_each_runtime(runtime: str, expected: str) -> None:
    """2.0 adds Buffer, atob/btoa, TextEncoder/TextDecoder and String.prototype.replaceAll."""
    body = ("return [typeof Buffer, typeof atob, typeof btoa, typeof TextEncoder, typeof ''.replaceAll,"
            " typeof encodeURIComponent, typeof Promise].join(' ');")
    assert probe(runtime, body) == expected


@pytest.mark.parametrize("runtime", BOTH)
def test_what_neither_page_lists_is_absent(runtime: str) -> None:
    """Timers (refused at validate when named) and Map/Set/Proxy/Reflect/Intl are not globals at run time."""
    names = "setTimeout setImmediate clearTimeout Map Set Proxy Reflect Intl WebAssembly"
    body = f"return '{names}'.split(' ').map(function (n) {{ return typeof globalThis[n]; }}).join(' ');"
    assert probe(runtime, body) == " ".join(["undefined"] * 9)


@pytest.mark.parametrize("runtime", BOTH)
def test_function_constructor_reached_indirectly_throws(runtime: str) -> None:
    """"Both eval() and Function constructors throw an error if attempted", however reached."""
    body = "try { (function () {}).constructor('return 1'); return 'ran'; } catch (e) { return e.name; }"
    assert probe(runtime, body) == "EvalError"


@pytest.mark.parametrize("runtime", BOTH)
def test_date_is_the_start_time_of_the_run(runtime: str) -> None:
    """"All Date methods to query the current time always return the same value" within a run."""
    body = ("var a = Date.now(); var x = 0; for (var i = 0; i < 200000; i++) { x += i; }"
            " return (Date.now() === a) + ' ' + (new Date().getTime() === a) + ' ' + (new Date(0).getTime());")
    assert probe(runtime, body) == "true true 0"


def test_text_codecs_and_base64_globals_in_2_0() -> None:
    """TextEncoder/TextDecoder and atob/btoa of the 2.0 page."""
    body = ("var e = new TextEncoder().encode('é'); return [e.length, new TextDecoder().decode(e),"
            " btoa('hello'), atob('aGVsbG8=')].join(' ');")
    assert probe(V2, body) == "2 é aGVsbG8= hello"


@pytest.mark.parametrize("runtime", BOTH)
def test_a_function_too_big_for_the_edge_fails_locally(runtime: str) -> None:
    """Building tens of megabytes of live data (the edge allows 2 MB) is stopped: by the heap
    budget, or by the time budget when V8 has not collected yet; what it logged is kept."""
    from tests.cfjs.helpers import run

    code = ("function handler(event) { console.log('filling'); var keep = [];"
            " for (var i = 0; i < 400; i++) { keep.push(new Array(5e4).fill(i)); } return event.request; }")
    result = run(runtime, code)
    assert result.output is None and result.logs == ("filling",)
    assert result.error is not None and re.match(r"The function exceeded the (memory|time) limit", result.error)
