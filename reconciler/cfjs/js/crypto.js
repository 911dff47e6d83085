// The `crypto` module of CloudFront Functions: createHash/createHmac with md5, sha1, sha256 and
// digest encodings hex, base64, base64url. Without an encoding, digest() returns a byte string
// in cloudfront-js-1.0 and a Buffer in cloudfront-js-2.0.
// https://docs.aws.amazon.com/AmazonCloudFront/latest/DeveloperGuide/functions-javascript-runtime-10.html
// https://docs.aws.amazon.com/AmazonCloudFront/latest/DeveloperGuide/functions-javascript-runtime-20.html
(function (cf) {
  'use strict';
  function add(a, b) { return (a + b) | 0; }
  function rol(x, n) { return (x << n) | (x >>> (32 - n)); }

  function md5(bytes) {
    var K = [], S = [7, 12, 17, 22, 5, 9, 14, 20, 4, 11, 16, 23, 6, 10, 15, 21];
    for (var i = 0; i < 64; i++) K[i] = Math.floor(Math.abs(Math.sin(i + 1)) * 4294967296) | 0;
    var msg = bytes.slice(), bitLen = bytes.length * 8;
    msg.push(0x80);
    while (msg.length % 64 !== 56) msg.push(0);
    for (i = 0; i < 8; i++) msg.push(i < 4 ? (bitLen >>> (8 * i)) & 255 : Math.floor(bitLen / 4294967296) >>> (8 * (i - 4)) & 255);
    var h = [0x67452301, 0xefcdab89 | 0, 0x98badcfe | 0, 0x10325476];
    for (var off = 0; off < msg.length; off += 64) {
      var w = [];
      for (i = 0; i < 16; i++) w[i] = msg[off + 4 * i] | (msg[off + 4 * i + 1] << 8) | (msg[off + 4 * i + 2] << 16) | (msg[off + 4 * i + 3] << 24);
      var a = h[0], b = h[1], c = h[2], d = h[3];
      for (i = 0; i < 64; i++) {
        var f, g;
        if (i < 16) { f = (b & c) | (~b & d); g = i; }
        else if (i < 32) { f = (d & b) | (~d & c); g = (5 * i + 1) % 16; }
        else if (i < 48) { f = b ^ c ^ d; g = (3 * i + 5) % 16; }
        else { f = c ^ (b | ~d); g = (7 * i) % 16; }
        var t = d; d = c; c = b;
        b = add(b, rol(add(add(a, f), add(K[i], w[g])), S[(i >> 4) * 4 + (i % 4)]));
        a = t;
      }
      h = [add(h[0], a), add(h[1], b), add(h[2], c), add(h[3], d)];
    }
    var out = [];
    for (i = 0; i < 16; i++) out.push((h[i >> 2] >>> (8 * (i % 4))) & 255);
    return out;
  }

  function padBE(bytes) {
    var msg = bytes.slice(), bitLen = bytes.length * 8;
    msg.push(0x80);
    while (msg.length % 64 !== 56) msg.push(0);
    var hi = Math.floor(bitLen / 4294967296);
    msg.push((hi >>> 24) & 255, (hi >>> 16) & 255, (hi >>> 8) & 255, hi & 255);
    msg.push((bitLen >>> 24) & 255, (bitLen >>> 16) & 255, (bitLen >>> 8) & 255, bitLen & 255);
    return msg;
  }
  function wordsBE(h) {
    var out = [];
    for (var i = 0; i < h.length * 4; i++) out.push((h[i >> 2] >>> (24 - 8 * (i % 4))) & 255);
    return out;
  }
  function word(msg, i) { return (msg[i] << 24) | (msg[i + 1] << 16) | (msg[i + 2] << 8) | msg[i + 3]; }

  function sha1(bytes) {
    var msg = padBE(bytes), h = [0x67452301, 0xefcdab89 | 0, 0x98badcfe | 0, 0x10325476, 0xc3d2e1f0 | 0];
    for (var off = 0; off < msg.length; off += 64) {
      var w = [], i;
      for (i = 0; i < 16; i++) w[i] = word(msg, off + 4 * i);
      for (i = 16; i < 80; i++) w[i] = rol(w[i - 3] ^ w[i - 8] ^ w[i - 14] ^ w[i - 16], 1);
      var a = h[0], b = h[1], c = h[2], d = h[3], e = h[4];
      for (i = 0; i < 80; i++) {
        var f, k;
        if (i < 20) { f = (b & c) | (~b & d); k = 0x5a827999; }
        else if (i < 40) { f = b ^ c ^ d; k = 0x6ed9eba1; }
        else if (i < 60) { f = (b & c) | (b & d) | (c & d); k = 0x8f1bbcdc | 0; }
        else { f = b ^ c ^ d; k = 0xca62c1d6 | 0; }
        var t = add(add(rol(a, 5), f), add(add(e, k), w[i]));
        e = d; d = c; c = rol(b, 30); b = a; a = t;
      }
      h = [add(h[0], a), add(h[1], b), add(h[2], c), add(h[3], d), add(h[4], e)];
    }
    return wordsBE(h);
  }

  var K256 = [];
  (function () {
    var n = 2, found = 0;
    while (found < 64) {
      var prime = true;
      for (var q = 2; q * q <= n; q++) if (n % q === 0) { prime = false; break; }
      if (prime) { K256.push(Math.floor((Math.cbrt(n) % 1) * 4294967296) | 0); found++; }
      n++;
    }
  })();
  function ror(x, n) { return (x >>> n) | (x << (32 - n)); }
  function sha256(bytes) {
    var msg = padBE(bytes);
    var h = [0x6a09e667, 0xbb67ae85 | 0, 0x3c6ef372, 0xa54ff53a | 0, 0x510e527f, 0x9b05688c | 0, 0x1f83d9ab, 0x5be0cd19];
    for (var off = 0; off < msg.length; off += 64) {
      var w = [], i;
      for (i = 0; i < 16; i++) w[i] = word(msg, off + 4 * i);
      for (i = 16; i < 64; i++) {
        var s0 = ror(w[i - 15], 7) ^ ror(w[i - 15], 18) ^ (w[i - 15] >>> 3);
        var s1 = ror(w[i - 2], 17) ^ ror(w[i - 2], 19) ^ (w[i - 2] >>> 10);
        w[i] = add(add(w[i - 16], s0), add(w[i - 7], s1));
      }
      var a = h[0], b = h[1], c = h[2], d = h[3], e = h[4], f = h[5], g = h[6], hh = h[7];
      for (i = 0; i < 64; i++) {
        var S1 = ror(e, 6) ^ ror(e, 11) ^ ror(e, 25);
        var t1 = add(add(add(hh, S1), add((e & f) ^ (~e & g), K256[i])), w[i]);
        var S0 = ror(a, 2) ^ ror(a, 13) ^ ror(a, 22);
        var t2 = add(S0, (a & b) ^ (a & c) ^ (b & c));
        hh = g; g = f; f = e; e = add(d, t1); d = c; c = b; b = a; a = add(t1, t2);
      }
      h = [add(h[0], a), add(h[1], b), add(h[2], c), add(h[3], d), add(h[4], e), add(h[5], f), add(h[6], g), add(h[7], hh)];
    }
    return wordsBE(h);
  }

  var ALGORITHMS = {md5: md5, sha1: sha1, sha256: sha256};

  function toBytes(data, what) {
    if (typeof data === 'string') return cf.utf8Encode(data);
    if (data && typeof data.length === 'number' && (ArrayBuffer.isView(data))) return Array.prototype.slice.call(new Uint8Array(data.buffer, data.byteOffset, data.byteLength));
    throw new TypeError('The "' + what + '" argument must be of type string or an instance of Buffer, TypedArray, or DataView');
  }
  function algorithm(name) {
    var fn = ALGORITHMS[String(name).toLowerCase()];
    if (!fn) throw new Error('Digest method not supported: ' + name);
    return fn;
  }

  cf.cryptoModule = function (runtime2) {
    function finish(bytes, encoding) {
      if (encoding === undefined) return runtime2 ? cf.makeBuffer(bytes) : cf.binaryString(bytes);
      if (encoding === 'hex' || encoding === 'base64' || encoding === 'base64url') return cf.decode(bytes, encoding);
      throw new TypeError('Unknown digest encoding: ' + encoding);
    }
    function Hash(fn) { this._fn = fn; this._data = []; this._done = false; }
    Hash.prototype.update = function (data) {
      if (this._done) throw new Error('Digest already called');
      this._data = this._data.concat(toBytes(data, 'data'));
      return this;
    };
    Hash.prototype.digest = function (encoding) {
      if (this._done) throw new Error('Digest already called');
      this._done = true;
      return finish(this._fn(this._data), encoding);
    };
    Hash.prototype.copy = undefined;
    function Hmac(fn, key) {
      var k = toBytes(key, 'key');
      if (k.length > 64) k = fn(k);
      while (k.length < 64) k.push(0);
      this._fn = fn; this._k = k; this._data = []; this._done = false;
    }
    Hmac.prototype.update = Hash.prototype.update;
    Hmac.prototype.digest = function (encoding) {
      if (this._done) throw new Error('Digest already called');
      this._done = true;
      var k = this._k, fn = this._fn;
      var inner = fn(k.map(function (b) { return b ^ 0x36; }).concat(this._data));
      return finish(fn(k.map(function (b) { return b ^ 0x5c; }).concat(inner)), encoding);
    };
    return {
      createHash: function (name) { return new Hash(algorithm(name)); },
      createHmac: function (name, key) { return new Hmac(algorithm(name), key); },
    };
  };
})(__cf);
