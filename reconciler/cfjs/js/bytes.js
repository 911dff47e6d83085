// Byte helpers shared by the CloudFront module shims (crypto, buffer, querystring, strings).
// Bytes are plain arrays of numbers 0..255 here; the shims convert at their edges.
// Loaded first into every context by reconciler/cfjs/engine.py; everything lives on __cf.
var __cf = {};
(function (cf) {
  'use strict';
  cf.utf8Encode = function (s) {
    var out = [];
    for (var i = 0; i < s.length; i++) {
      var c = s.charCodeAt(i);
      if (c >= 0xd800 && c <= 0xdbff && i + 1 < s.length) {
        var d = s.charCodeAt(i + 1);
        if (d >= 0xdc00 && d <= 0xdfff) { c = 0x10000 + ((c - 0xd800) << 10) + (d - 0xdc00); i++; }
        else { c = 0xfffd; }
      } else if (c >= 0xd800 && c <= 0xdfff) { c = 0xfffd; }
      if (c < 0x80) out.push(c);
      else if (c < 0x800) out.push(0xc0 | (c >> 6), 0x80 | (c & 63));
      else if (c < 0x10000) out.push(0xe0 | (c >> 12), 0x80 | ((c >> 6) & 63), 0x80 | (c & 63));
      else out.push(0xf0 | (c >> 18), 0x80 | ((c >> 12) & 63), 0x80 | ((c >> 6) & 63), 0x80 | (c & 63));
    }
    return out;
  };
  // UTF-8 bytes -> string; invalid sequences become U+FFFD, or null when `strict`.
  cf.utf8Decode = function (b, strict) {
    var s = '';
    for (var i = 0; i < b.length;) {
      var c = b[i], n = 0, cp = 0;
      if (c < 0x80) { n = 0; cp = c; }
      else if (c >= 0xc2 && c < 0xe0) { n = 1; cp = c & 31; }
      else if (c >= 0xe0 && c < 0xf0) { n = 2; cp = c & 15; }
      else if (c >= 0xf0 && c < 0xf5) { n = 3; cp = c & 7; }
      else { if (strict) return null; s += '\ufffd'; i++; continue; }
      var ok = i + n < b.length + (n ? 0 : 1);
      for (var k = 1; ok && k <= n; k++) { ok = (b[i + k] & 0xc0) === 0x80; if (ok) cp = (cp << 6) | (b[i + k] & 63); }
      if (!ok || (n === 2 && cp < 0x800) || (n === 3 && (cp < 0x10000 || cp > 0x10ffff)) || (cp >= 0xd800 && cp <= 0xdfff)) {
        if (strict) return null; s += '\ufffd'; i++; continue;
      }
      s += String.fromCodePoint(cp);
      i += n + 1;
    }
    return s;
  };
  var B64 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';
  cf.base64Encode = function (b, url) {
    var s = '';
    for (var i = 0; i < b.length; i += 3) {
      var n = (b[i] << 16) | ((b[i + 1] || 0) << 8) | (b[i + 2] || 0);
      s += B64[n >> 18] + B64[(n >> 12) & 63] + (i + 1 < b.length ? B64[(n >> 6) & 63] : '=') + (i + 2 < b.length ? B64[n & 63] : '=');
    }
    return url ? s.replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '') : s;
  };
  // Lenient like Node: both alphabets, padding optional, stops at the first other character.
  cf.base64Decode = function (s) {
    var out = [], acc = 0, bits = 0;
    for (var i = 0; i < s.length; i++) {
      var ch = s[i], v;
      if (ch === '-') v = 62; else if (ch === '_') v = 63; else v = B64.indexOf(ch);
      if (ch === '=' ) break;
      if (v < 0) { if (/\s/.test(ch)) continue; break; }
      acc = (acc << 6) | v; bits += 6;
      if (bits >= 8) { bits -= 8; out.push((acc >> bits) & 255); }
    }
    return out;
  };
  cf.hexEncode = function (b) {
    var s = '';
    for (var i = 0; i < b.length; i++) s += (b[i] < 16 ? '0' : '') + b[i].toString(16);
    return s;
  };
  cf.hexDecode = function (s) {
    var out = [];
    for (var i = 0; i + 1 < s.length; i += 2) {
      var v = parseInt(s.substr(i, 2), 16);
      if (isNaN(v)) break;
      out.push(v);
    }
    return out;
  };
  cf.binaryString = function (b) {
    var s = '';
    for (var i = 0; i < b.length; i++) s += String.fromCharCode(b[i]);
    return s;
  };
  cf.fromBinaryString = function (s) {
    var out = [];
    for (var i = 0; i < s.length; i++) out.push(s.charCodeAt(i) & 255);
    return out;
  };
  cf.ENCODINGS = ['utf8', 'utf-8', 'hex', 'base64', 'base64url'];
  cf.encode = function (s, encoding) {
    var e = (encoding || 'utf8').toLowerCase();
    if (e === 'utf8' || e === 'utf-8') return cf.utf8Encode(s);
    if (e === 'hex') return cf.hexDecode(s);
    if (e === 'base64' || e === 'base64url') return cf.base64Decode(s);
    throw new TypeError('Unknown encoding: ' + encoding);
  };
  cf.decode = function (b, encoding) {
    var e = (encoding || 'utf8').toLowerCase();
    if (e === 'utf8' || e === 'utf-8') return cf.utf8Decode(b, false);
    if (e === 'hex') return cf.hexEncode(b);
    if (e === 'base64') return cf.base64Encode(b, false);
    if (e === 'base64url') return cf.base64Encode(b, true);
    throw new TypeError('Unknown encoding: ' + encoding);
  };
})(__cf);
