// `Buffer` of cloudfront-js-2.0 (global, and `require('buffer').Buffer`): the static and
// prototype methods the runtime 2.0 page lists, with the encodings utf8, hex, base64, base64url.
// https://docs.aws.amazon.com/AmazonCloudFront/latest/DeveloperGuide/functions-javascript-runtime-20.html
(function (cf) {
  'use strict';
  class Buffer extends Uint8Array {}
  function bytesOf(value, encoding) {
    if (typeof value === 'string') return cf.encode(value, encoding);
    if (typeof value === 'number') return [value & 255];
    if (value instanceof ArrayBuffer) return Array.prototype.slice.call(new Uint8Array(value));
    if (ArrayBuffer.isView(value)) return Array.prototype.slice.call(new Uint8Array(value.buffer, value.byteOffset, value.byteLength));
    if (Array.isArray(value)) return value.map(function (v) { return v & 255; });
    throw new TypeError('The argument must be a string, Buffer, TypedArray, DataView or ArrayBuffer');
  }
  function make(bytes) { var b = new Buffer(bytes.length); b.set(bytes); return b; }
  cf.makeBuffer = make;
  function checkEncoding(e) { if (e !== undefined && !Buffer.isEncoding(e)) throw new TypeError('Unknown encoding: ' + e); }

  Buffer.alloc = function (size, fill, encoding) {
    var b = new Buffer(size);
    if (fill !== undefined && fill !== 0) b.fill(fill, 0, size, encoding);
    return b;
  };
  Buffer.allocUnsafe = function (size) { return new Buffer(size); };
  Buffer.byteLength = function (value, encoding) { checkEncoding(encoding); return bytesOf(value, encoding).length; };
  Buffer.compare = function (a, b) { return a.compare(b); };
  Buffer.concat = function (list, totalLength) {
    var all = [];
    list.forEach(function (b) { all = all.concat(bytesOf(b)); });
    if (totalLength !== undefined) { all = all.slice(0, totalLength); while (all.length < totalLength) all.push(0); }
    return make(all);
  };
  Buffer.from = function (value, offsetOrEncoding, length) {
    if (value instanceof ArrayBuffer) {
      var off = offsetOrEncoding || 0;
      return new Buffer(value, off, length === undefined ? value.byteLength - off : length);
    }
    if (typeof value === 'string') { checkEncoding(offsetOrEncoding); return make(cf.encode(value, offsetOrEncoding)); }
    if (value !== null && typeof value === 'object' && !ArrayBuffer.isView(value) && !Array.isArray(value)) {
      var prim = value.valueOf();
      if (prim !== value) return Buffer.from(prim, offsetOrEncoding, length);
      if (value.type === 'Buffer' && Array.isArray(value.data)) return make(bytesOf(value.data));
      if (typeof value.length === 'number') return make(Array.prototype.slice.call(value).map(function (v) { return v & 255; }));
    }
    return make(bytesOf(value));
  };
  Buffer.isBuffer = function (o) { return o instanceof Buffer; };
  Buffer.isEncoding = function (e) { return typeof e === 'string' && cf.ENCODINGS.indexOf(e.toLowerCase()) >= 0; };

  var P = Buffer.prototype;
  function arr(b) { return Array.prototype.slice.call(b); }
  P.toString = function (encoding, start, end) {
    checkEncoding(encoding);
    return cf.decode(arr(this.subarray(start || 0, end === undefined ? this.length : end)), encoding);
  };
  P.toJSON = function () { return {type: 'Buffer', data: arr(this)}; };
  P.equals = function (other) { return this.compare(other) === 0; };
  P.compare = function (target, tStart, tEnd, sStart, sEnd) {
    var a = arr(this.subarray(sStart || 0, sEnd === undefined ? this.length : sEnd));
    var b = arr(target.subarray(tStart || 0, tEnd === undefined ? target.length : tEnd));
    for (var i = 0; i < Math.min(a.length, b.length); i++) if (a[i] !== b[i]) return a[i] < b[i] ? -1 : 1;
    return a.length === b.length ? 0 : (a.length < b.length ? -1 : 1);
  };
  P.copy = function (target, tStart, sStart, sEnd) {
    var src = this.subarray(sStart || 0, sEnd === undefined ? this.length : sEnd);
    var n = Math.min(src.length, target.length - (tStart || 0));
    for (var i = 0; i < n; i++) target[(tStart || 0) + i] = src[i];
    return n;
  };
  var fillTyped = Uint8Array.prototype.fill;
  P.fill = function (value, offset, end, encoding) {
    if (typeof offset === 'string') { encoding = offset; offset = 0; end = this.length; }
    if (typeof end === 'string') { encoding = end; end = this.length; }
    offset = offset || 0; end = end === undefined ? this.length : end;
    if (typeof value === 'number') return fillTyped.call(this, value & 255, offset, end);
    var bytes = bytesOf(value, encoding);
    for (var i = offset, k = 0; i < end && bytes.length; i++, k++) this[i] = bytes[k % bytes.length];
    return this;
  };
  P.indexOf = function (value, byteOffset, encoding) {
    if (typeof byteOffset === 'string') { encoding = byteOffset; byteOffset = 0; }
    var needle = bytesOf(value, encoding), hay = arr(this), from = byteOffset || 0;
    if (from < 0) from = Math.max(0, hay.length + from);
    for (var i = from; i + needle.length <= hay.length; i++) {
      var ok = true;
      for (var k = 0; k < needle.length && ok; k++) ok = hay[i + k] === needle[k];
      if (ok) return i;
    }
    return -1;
  };
  P.lastIndexOf = function (value, byteOffset, encoding) {
    if (typeof byteOffset === 'string') { encoding = byteOffset; byteOffset = undefined; }
    var needle = bytesOf(value, encoding), hay = arr(this);
    var from = byteOffset === undefined ? hay.length - needle.length : Math.min(byteOffset, hay.length - needle.length);
    for (var i = from; i >= 0; i--) {
      var ok = true;
      for (var k = 0; k < needle.length && ok; k++) ok = hay[i + k] === needle[k];
      if (ok) return i;
    }
    return -1;
  };
  P.includes = function (value, byteOffset, encoding) { return this.indexOf(value, byteOffset, encoding) !== -1; };
  P.write = function (string, offset, length, encoding) {
    if (typeof offset === 'string') { encoding = offset; offset = 0; length = undefined; }
    if (typeof length === 'string') { encoding = length; length = undefined; }
    offset = offset || 0;
    var bytes = cf.encode(string, encoding), n = Math.min(bytes.length, this.length - offset, length === undefined ? Infinity : length);
    for (var i = 0; i < n; i++) this[offset + i] = bytes[i];
    return n;
  };
  function swap(size) {
    return function () {
      if (this.length % size !== 0) throw new RangeError('Buffer size must be a multiple of ' + (size * 8) + '-bits');
      for (var i = 0; i < this.length; i += size) for (var k = 0; k < size / 2; k++) {
        var t = this[i + k]; this[i + k] = this[i + size - 1 - k]; this[i + size - 1 - k] = t;
      }
      return this;
    };
  }
  P.swap16 = swap(2); P.swap32 = swap(4); P.swap64 = swap(8);
  function view(b) { return new DataView(b.buffer, b.byteOffset, b.byteLength); }
  var fixed = {Int8: 1, UInt8: 1, Int16: 2, UInt16: 2, Int32: 4, UInt32: 4, Float: 4, Double: 8};
  Object.keys(fixed).forEach(function (name) {
    var dv = name.replace('UInt', 'Uint').replace(/^Float$/, 'Float32').replace(/^Double$/, 'Float64');
    var ends = fixed[name] === 1 ? [''] : ['BE', 'LE'];
    ends.forEach(function (end) {
      var little = end === 'LE';
      P['read' + name + end] = function (offset) { return view(this)['get' + dv](offset || 0, little); };
      P['write' + name + end] = function (value, offset) { view(this)['set' + dv](offset || 0, value, little); return (offset || 0) + fixed[name]; };
    });
  });
  function readVar(signed, little) {
    return function (offset, byteLength) {
      var v = 0;
      for (var i = 0; i < byteLength; i++) v = v * 256 + this[offset + (little ? byteLength - 1 - i : i)];
      if (signed && v >= Math.pow(2, 8 * byteLength - 1)) v -= Math.pow(2, 8 * byteLength);
      return v;
    };
  }
  function writeVar(little) {
    return function (value, offset, byteLength) {
      var v = value < 0 ? value + Math.pow(2, 8 * byteLength) : value;
      for (var i = 0; i < byteLength; i++) {
        this[offset + (little ? i : byteLength - 1 - i)] = v % 256; v = Math.floor(v / 256);
      }
      return offset + byteLength;
    };
  }
  P.readIntBE = readVar(true, false); P.readIntLE = readVar(true, true);
  P.readUIntBE = readVar(false, false); P.readUIntLE = readVar(false, true);
  P.writeIntBE = writeVar(false); P.writeIntLE = writeVar(true);
  P.writeUIntBE = writeVar(false); P.writeUIntLE = writeVar(true);
  cf.Buffer = Buffer;
})(__cf);
