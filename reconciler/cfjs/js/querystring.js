// The `querystring` module: parse/decode, stringify/encode, escape, unescape with the separator,
// equal and options ({decodeURIComponent, maxKeys} / {encodeURIComponent}) the pages document.
// Invalid UTF-8 in percent-encoding becomes U+FFFD, as the pages say.
(function (cf) {
  'use strict';
  var UNRESERVED = /[A-Za-z0-9\-._~!'()*]/;
  function escape(str) {
    var s = String(str), out = '';
    for (var i = 0; i < s.length; i++) {
      if (UNRESERVED.test(s[i])) { out += s[i]; continue; }
      var c = s.charCodeAt(i), chunk = s[i];
      if (c >= 0xd800 && c <= 0xdbff && i + 1 < s.length) { chunk += s[i + 1]; i++; }
      var bytes = cf.utf8Encode(chunk);
      for (var k = 0; k < bytes.length; k++) out += '%' + (bytes[k] < 16 ? '0' : '') + bytes[k].toString(16).toUpperCase();
    }
    return out;
  }
  function unescape(str) {
    var s = String(str), bytes = [];
    for (var i = 0; i < s.length; i++) {
      var hex = s.substr(i + 1, 2);
      if (s[i] === '%' && /^[0-9a-fA-F]{2}$/.test(hex)) { bytes.push(parseInt(hex, 16)); i += 2; }
      else bytes = bytes.concat(cf.utf8Encode(s[i]));
    }
    return cf.utf8Decode(bytes, false);
  }
  function parse(str, sep, eq, options) {
    var result = {};
    if (typeof str !== 'string' || str.length === 0) return result;
    sep = sep || '&'; eq = eq || '=';
    var decode = (options && typeof options.decodeURIComponent === 'function') ? options.decodeURIComponent : module.unescape;
    var maxKeys = options && typeof options.maxKeys === 'number' ? options.maxKeys : 1000;
    var parts = str.split(sep);
    if (maxKeys > 0 && parts.length > maxKeys) parts = parts.slice(0, maxKeys);
    for (var i = 0; i < parts.length; i++) {
      if (parts[i] === '') continue;
      var at = parts[i].indexOf(eq);
      var rawKey = at >= 0 ? parts[i].substr(0, at) : parts[i];
      var rawValue = at >= 0 ? parts[i].substr(at + eq.length) : '';
      var key = decode(rawKey.replace(/\+/g, ' ')), value = decode(rawValue.replace(/\+/g, ' '));
      if (!Object.prototype.hasOwnProperty.call(result, key)) result[key] = value;
      else if (Array.isArray(result[key])) result[key].push(value);
      else result[key] = [result[key], value];
    }
    return result;
  }
  function primitive(v) {
    if (typeof v === 'string') return v;
    if ((typeof v === 'number' && isFinite(v)) || typeof v === 'boolean') return String(v);
    return '';
  }
  function stringify(obj, sep, eq, options) {
    sep = sep || '&'; eq = eq || '=';
    var encode = (options && typeof options.encodeURIComponent === 'function') ? options.encodeURIComponent : module.escape;
    if (obj === null || typeof obj !== 'object') return '';
    var out = [];
    Object.keys(obj).forEach(function (k) {
      var v = obj[k], ks = encode(primitive(k)) + eq;
      if (Array.isArray(v)) v.forEach(function (item) { out.push(ks + encode(primitive(item))); });
      else out.push(ks + encode(primitive(v)));
    });
    return out.join(sep);
  }
  var module = {escape: escape, unescape: unescape, parse: parse, decode: parse, stringify: stringify, encode: stringify};
  cf.querystringModule = function () {
    return {escape: escape, unescape: unescape, parse: parse, decode: parse, stringify: stringify, encode: stringify};
  };
})(__cf);
