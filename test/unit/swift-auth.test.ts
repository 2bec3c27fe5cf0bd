// Swift authentication requests and catalog choices, as python-swiftclient made them for WAL-E
// (spec §6.4): Keystone v2 and v3 request bodies and object-store endpoint selection.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { SwiftSettings } from '../../src/config/credentials';
import { keystoneV2Body, keystoneV3Body, keystoneV3TokensUrl, pickV2Endpoint, pickV3Endpoint } from '../../src/storage/swift/swift-auth';
import { Secret } from '../../src/util/secret';

const base: SwiftSettings = {
  authUrl: 'http://keystone:5000/v2.0',
  user: 'tester',
  password: new Secret('testing'),
  tenant: 'test',
  region: undefined,
  endpointType: 'publicURL',
  authVersion: '2',
  keystoneV3: {},
};

describe('keystone v2 request', () => {
  it('sends passwordCredentials and tenantName', () => {
    assert.deepEqual(keystoneV2Body(base), { auth: { passwordCredentials: { username: 'tester', password: 'testing' }, tenantName: 'test' } });
  });

  it('uses SWIFT_TENANT_ID when no tenant name is given', () => {
    const body = keystoneV2Body({ ...base, tenant: undefined, keystoneV3: { SWIFT_TENANT_ID: 't-1' } });
    assert.deepEqual(body, { auth: { passwordCredentials: { username: 'tester', password: 'testing' }, tenantId: 't-1' } });
  });
});

describe('keystone v2 catalog', () => {
  const catalog = [
    { type: 'identity', endpoints: [{ region: 'R1', publicURL: 'http://id' }] },
    {
      type: 'object-store',
      endpoints: [
        { region: 'R1', publicURL: 'http://r1-public', internalURL: 'http://r1-internal', adminURL: 'http://r1-admin' },
        { region: 'R2', publicURL: 'http://r2-public', internalURL: 'http://r2-internal' },
      ],
    },
  ];

  it('takes the first object-store endpoint of the endpoint type when no region is set', () => {
    assert.equal(pickV2Endpoint(catalog, { region: undefined, endpointType: 'publicURL' }), 'http://r1-public');
  });

  it('honours SWIFT_REGION and SWIFT_ENDPOINT_TYPE', () => {
    assert.equal(pickV2Endpoint(catalog, { region: 'R2', endpointType: 'internalURL' }), 'http://r2-internal');
    assert.equal(pickV2Endpoint(catalog, { region: 'R1', endpointType: 'adminURL' }), 'http://r1-admin');
  });

  it('finds nothing for an unknown region or a missing endpoint type', () => {
    assert.equal(pickV2Endpoint(catalog, { region: 'R3', endpointType: 'publicURL' }), undefined);
    assert.equal(pickV2Endpoint(catalog, { region: 'R2', endpointType: 'adminURL' }), undefined);
    assert.equal(pickV2Endpoint(undefined, { region: undefined, endpointType: 'publicURL' }), undefined);
  });
});

describe('keystone v3 catalog', () => {
  const catalog = [
    {
      type: 'object-store',
      endpoints: [
        { interface: 'admin', region_id: 'RegionOne', url: 'http://admin' },
        { interface: 'public', region_id: 'RegionOne', url: 'http://public-1' },
        { interface: 'internal', region_id: 'RegionOne', url: 'http://internal-1' },
        { interface: 'public', region_id: 'RegionTwo', url: 'http://public-2' },
      ],
    },
  ];

  it('maps publicURL/internalURL/adminURL to the v3 interfaces', () => {
    assert.equal(pickV3Endpoint(catalog, { region: undefined, endpointType: 'publicURL' }), 'http://public-1');
    assert.equal(pickV3Endpoint(catalog, { region: undefined, endpointType: 'internalURL' }), 'http://internal-1');
    assert.equal(pickV3Endpoint(catalog, { region: undefined, endpointType: 'adminURL' }), 'http://admin');
    assert.equal(pickV3Endpoint(catalog, { region: 'RegionTwo', endpointType: 'publicURL' }), 'http://public-2');
    assert.equal(pickV3Endpoint(catalog, { region: 'RegionTwo', endpointType: 'internalURL' }), undefined);
  });

  it('accepts a Keystone root or its /v3 endpoint as SWIFT_AUTHURL', () => {
    assert.equal(keystoneV3TokensUrl('http://k:5000/v3'), 'http://k:5000/v3/auth/tokens');
    assert.equal(keystoneV3TokensUrl('http://k:5000/v3/'), 'http://k:5000/v3/auth/tokens');
    assert.equal(keystoneV3TokensUrl('http://k:5000'), 'http://k:5000/v3/auth/tokens');
  });

  it('v3 bodies: user by id needs no domain; domain scope without a project', () => {
    const body = keystoneV3Body({ ...base, tenant: undefined, keystoneV3: { SWIFT_USER_ID: 'u-1', SWIFT_DOMAIN_NAME: 'Default' } });
    assert.deepEqual(body, {
      auth: {
        identity: { methods: ['password'], password: { user: { password: 'testing', id: 'u-1' } } },
        scope: { domain: { name: 'Default' } },
      },
    });
  });
});
