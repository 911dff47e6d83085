// The global environment of CloudFront Functions runs. __cf.install(runtime2), once per context
// after the module shims are loaded: only the globals the runtime's page lists stay, dynamic
// code evaluation and timers are gone. __cf.begin(config), before each run: `Date` answers the
// start time of the run, `console.log` collects lines, `require` serves fresh built-in modules.
// __cf.start(event) then runs the handler; its outcome says whether the run left the globals as
// install made them (else the engine does not reuse the context).
// https://docs.aws.amazon.com/AmazonCloudFront/latest/DeveloperGuide/functions-javascript-runtime-10.html
// https://docs.aws.amazon.com/AmazonCloudFront/latest/DeveloperGuide/functions-javascript-runtime-20.html
(function (cf) {
  'use strict';
  var g = globalThis;
  var LISTED = [
    'Object', 'Function', 'Array', 'Number', 'Boolean', 'String', 'Date', 'Promise', 'RegExp', 'JSON', 'Math',
    'Error', 'EvalError', 'RangeError', 'ReferenceError', 'SyntaxError', 'TypeError', 'URIError',
    'InternalError', 'MemoryError',
    'ArrayBuffer', 'Int8Array', 'Uint8Array', 'Uint8ClampedArray', 'Int16Array', 'Uint16Array', 'Int32Array',
    'Uint32Array', 'Float32Array', 'Float64Array',
    'globalThis', 'decodeURI', 'decodeURIComponent', 'encodeURI', 'encodeURIComponent', 'isFinite', 'isNaN',
    'parseFloat', 'parseInt', 'NaN', 'Infinity', 'undefined', 'console', 'require', '__cf',
  ];
  var LISTED_2 = ['Symbol', 'DataView', 'TextEncoder', 'TextDecoder', 'atob', 'btoa', 'Buffer'];

  function njsError(name) {
    var E = function (message) {
      var e = new Error(message);
      Object.setPrototypeOf(e, E.prototype);
      return e;
    };
    E.prototype = Object.create(Error.prototype, {name: {value: name}, constructor: {value: E}});
    return E;
  }

  function textCodecs() {
    function TextEncoder() {}
    TextEncoder.prototype.encoding = 'utf-8';
    TextEncoder.prototype.encode = function (s) { return new Uint8Array(cf.utf8Encode(String(s === undefined ? '' : s))); };
    TextEncoder.prototype.encodeInto = function (s, dest) {
      var bytes = cf.utf8Encode(String(s)), n = Math.min(bytes.length, dest.length);
      for (var i = 0; i < n; i++) dest[i] = bytes[i];
      return {read: s.length, written: n};
    };
    function TextDecoder(encoding, options) {
      var e = (encoding || 'utf-8').toLowerCase();
      if (e !== 'utf-8' && e !== 'utf8') throw new RangeError('The "' + encoding + '" encoding is not supported');
      this._fatal = !!(options && options.fatal);
      this._ignoreBOM = !!(options && options.ignoreBOM);
    }
    Object.defineProperty(TextDecoder.prototype, 'encoding', {get: function () { return 'utf-8'; }});
    Object.defineProperty(TextDecoder.prototype, 'fatal', {get: function () { return this._fatal; }});
    Object.defineProperty(TextDecoder.prototype, 'ignoreBOM', {get: function () { return this._ignoreBOM; }});
    TextDecoder.prototype.decode = function (input) {
      var bytes = input === undefined ? [] : Array.prototype.slice.call(
        input instanceof ArrayBuffer ? new Uint8Array(input) : new Uint8Array(input.buffer, input.byteOffset, input.byteLength));
      if (!this._ignoreBOM && bytes[0] === 0xef && bytes[1] === 0xbb && bytes[2] === 0xbf) bytes = bytes.slice(3);
      var s = cf.utf8Decode(bytes, this._fatal);
      if (s === null) throw new TypeError('The encoded data was not valid for encoding utf-8');
      return s;
    };
    return {TextEncoder: TextEncoder, TextDecoder: TextDecoder};
  }

  function stringExtensions() {
    // The nonstandard byte-string methods of runtime 1.0 (absent from 2.0).
    String.bytesFrom = function (value, encoding) {
      if (Array.isArray(value)) return cf.binaryString(value.map(function (v) { return v & 255; }));
      return cf.binaryString(cf.encode(String(value), encoding || 'utf8'));
    };
    function range(s, start, end) { return s.slice(start || 0, end === undefined ? s.length : end); }
    String.prototype.fromBytes = function (start, end) { return range(String(this), start, end); };
    String.prototype.toBytes = function (start, end) {
      var s = range(String(this), start, end);
      for (var i = 0; i < s.length; i++) if (s.charCodeAt(i) > 255) return null;
      return s;
    };
    String.prototype.toUTF8 = function (start, end) { return cf.binaryString(cf.utf8Encode(range(String(this), start, end))); };
    String.prototype.fromUTF8 = function (start, end) {
      var s = range(String(this), start, end);
      for (var i = 0; i < s.length; i++) if (s.charCodeAt(i) > 255) return null;
      return cf.utf8Decode(cf.fromBinaryString(s), true);
    };
  }

  function fixedDate(start) {
    function CloudFrontDate() {
      var args = Array.prototype.slice.call(arguments);
      if (!new.target) return new RealDate(start).toString();
      if (args.length === 0) return new RealDate(start);
      return new (Function.prototype.bind.apply(RealDate, [null].concat(args)))();
    }
    CloudFrontDate.prototype = RealDate.prototype;
    RealDate.prototype.constructor = CloudFrontDate;
    CloudFrontDate.now = function () { return start; };
    CloudFrontDate.UTC = RealDate.UTC;
    CloudFrontDate.parse = RealDate.parse;
    return CloudFrontDate;
  }

  function refused(what) {
    return function () { throw new EvalError(what + ' is not supported in CloudFront Functions'); };
  }

  cf.logs = [];
  var RealDate = Date;
  var watched = [Object.prototype, Array.prototype, String.prototype, Function.prototype, Number.prototype,
    RegExp.prototype, Date.prototype, Promise.prototype, JSON, Math, Object, Array, String];
  function shape() {
    return Object.getOwnPropertyNames(globalThis).sort().join(',') + '|' +
      watched.map(function (o) { return Object.getOwnPropertyNames(o).length; }).join(',');
  }
  cf.install = function (v2) {
    var keep = {};
    LISTED.concat(v2 ? LISTED_2 : []).forEach(function (n) { keep[n] = true; });
    if (v2) {
      var codecs = textCodecs();
      g.TextEncoder = codecs.TextEncoder;
      g.TextDecoder = codecs.TextDecoder;
      g.atob = function (s) { return cf.binaryString(cf.base64Decode(String(s))); };
      g.btoa = function (s) {
        s = String(s);
        for (var i = 0; i < s.length; i++) if (s.charCodeAt(i) > 255) throw new Error('Invalid character');
        return cf.base64Encode(cf.fromBinaryString(s), false);
      };
      g.Buffer = cf.Buffer;
    } else {
      stringExtensions();
      delete String.prototype.replaceAll;
    }
    // Dynamic code evaluation: "Both eval() and Function constructors throw an error if attempted."
    NoFunction.prototype = Function.prototype;
    [Function.prototype, Object.getPrototypeOf(async function () {})].forEach(function (proto) {
      Object.defineProperty(proto, 'constructor', {value: NoFunction, writable: true, configurable: true});
    });
    g.InternalError = njsError('InternalError');
    g.MemoryError = njsError('MemoryError');
    g.console = {log: function () {
      var parts = [];
      for (var i = 0; i < arguments.length; i++) {
        var a = arguments[i];
        parts.push(typeof a === 'string' ? a : (a instanceof Error ? String(a) : (typeof a === 'object' && a !== null ? JSON.stringify(a) : String(a))));
      }
      cf.logs.push(parts.join(' '));
    }};
    Object.getOwnPropertyNames(g).forEach(function (name) {
      if (!keep[name]) { try { delete g[name]; } catch (e) { g[name] = undefined; } }
    });
    g.eval = refused('eval()');
    g.Function = NoFunction;
    g.require = function () { throw new Error('require() before the run began'); };
    cf.shape = shape();
  };
  var NoFunction = refused('The Function constructor');

  cf.begin = function (config) {
    var v2 = config.runtime2;
    cf.config = config;
    cf.logs = [];
    var modules = {
      crypto: function () { return cf.cryptoModule(v2); },
      querystring: function () { return cf.querystringModule(); },
    };
    if (v2) {
      modules.buffer = function () { return {Buffer: cf.Buffer}; };
      modules.cloudfront = function () { return cf.cloudfrontModule(config); };
    }
    var loaded = {};
    cf.require = function (name) {
      if (!Object.prototype.hasOwnProperty.call(modules, name)) throw new Error('Cannot find module "' + name + '"');
      if (!loaded[name]) loaded[name] = modules[name]();
      return loaded[name];
    };
    g.require = cf.require;
    g.Date = fixedDate(config.start);
    cf.load = undefined;
  };

  function outcome(value) {
    var kind = value === null ? 'null' : (Array.isArray(value) ? 'array' : typeof value);
    var safe = (kind === 'object' || kind === 'array' || kind === 'string' || kind === 'number' || kind === 'boolean') ? value : null;
    return JSON.stringify({kind: kind, value: safe, logs: cf.logs, clean: shape() === cf.shape});
  }

  function failure(e) {
    var message = e instanceof Error ? String(e) : 'Uncaught ' + String(e);
    return JSON.stringify({error: message, logs: cf.logs, clean: shape() === cf.shape});
  }
  async function settle(promise) {
    try { return outcome(await promise); } catch (e) { return failure(e); }
  }
  // The outcome as JSON; a promise of it when a 2.0 handler returned one (an async handler).
  cf.start = function (event) {
    try {
      var handler = cf.load(cf.require);
      if (typeof handler !== 'function') {
        return JSON.stringify({error: 'The function code does not define a function named handler', logs: cf.logs});
      }
      var out = handler(event);
      if (cf.config.runtime2 && out !== null && typeof out === 'object' && typeof out.then === 'function') return settle(out);
      return outcome(out);
    } catch (e) {
      return failure(e);
    }
  };
})(__cf);
