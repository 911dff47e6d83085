// The `cloudfront` module of cloudfront-js-2.0: `kvs()` (get/exists/meta over a test's `kvs`
// data) and the origin-modification helpers, which work in viewer-request functions only.
// https://docs.aws.amazon.com/AmazonCloudFront/latest/DeveloperGuide/functions-custom-methods.html
// https://docs.aws.amazon.com/AmazonCloudFront/latest/DeveloperGuide/helper-functions-origin-modification.html
// AWS: "The Test API and Test console pages don't test whether an origin modification has
// occurred": locally the helpers check their arguments and change nothing either.
(function (cf) {
  'use strict';
  cf.cloudfrontModule = function (config) {
    var data = config.kvs || {};
    function has(key) { return Object.prototype.hasOwnProperty.call(data, key); }
    function handle() {
      return {
        get: function (key, options) {
          var format = (options && options.format) || 'string';
          if (['string', 'json', 'bytes'].indexOf(format) < 0) return Promise.reject(new Error('Unsupported format: ' + format));
          if (!has(key)) return Promise.reject(new Error('Key ' + key + ' not found'));
          var value = String(data[key]);
          try {
            if (format === 'json') return Promise.resolve(JSON.parse(value));
            if (format === 'bytes') return Promise.resolve(cf.makeBuffer(cf.utf8Encode(value)));
          } catch (e) { return Promise.reject(e); }
          return Promise.resolve(value);
        },
        exists: function (key) { return Promise.resolve(has(key)); },
        meta: function () {
          return Promise.resolve({
            creationDateTime: config.startIso, lastUpdatedDateTime: config.startIso, keyCount: Object.keys(data).length,
          });
        },
      };
    }
    function viewerRequestOnly(name) {
      if (config.eventType !== 'viewer-request') {
        throw new Error(name + '() can be used in viewer-request functions only');
      }
    }
    function object(name, params) {
      if (params === null || typeof params !== 'object' || Array.isArray(params)) throw new TypeError(name + '() expects an object');
    }
    return {
      kvs: function (id) {
        if (id !== undefined && typeof id !== 'string') throw new TypeError('kvs() expects a key value store id string');
        return handle();
      },
      updateRequestOrigin: function (params) {
        viewerRequestOnly('updateRequestOrigin');
        object('updateRequestOrigin', params);
      },
      selectRequestOriginById: function (originId) {
        viewerRequestOnly('selectRequestOriginById');
        if (typeof originId !== 'string' || !originId) throw new TypeError('selectRequestOriginById() expects an origin id string');
      },
      createRequestOriginGroup: function (params) {
        viewerRequestOnly('createRequestOriginGroup');
        object('createRequestOriginGroup', params);
        if (!Array.isArray(params.originIds) || params.originIds.length < 2) {
          throw new TypeError('createRequestOriginGroup() expects originIds with two origin ids');
        }
      },
    };
  };
})(__cf);
