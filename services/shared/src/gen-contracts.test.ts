// Guards the two properties of the generated contracts that the rest of Tern relies on and that a
// ts-proto option change could silently break: 64-bit ids survive encode/decode exactly (TL `long`
// values are routinely above 2^53 or negative), and gRPC method paths are what other DCs call.
import { AuthServiceService } from './gen/tern/auth/v1/auth';
import { RequestContext } from './gen/tern/common/v1/context';
import { Peer } from './gen/tern/common/v1/peer';
import { User } from './gen/tern/common/v1/user';

const ABOVE_2_53 = 9007199254740993n; // 2^53 + 1: not representable as a JS number
const INT64_MIN = -(2n ** 63n);
const INT64_MAX = 2n ** 63n - 1n;

describe('generated contracts', () => {
  it('round-trips int64 and sfixed64 values beyond 2^53 exactly', () => {
    const user = User.create({ id: ABOVE_2_53, accessHash: -ABOVE_2_53, firstName: 'Ada', dcId: 2 });
    const decoded = User.decode(User.encode(user).finish());
    expect(decoded.id).toBe(ABOVE_2_53);
    expect(decoded.accessHash).toBe(-ABOVE_2_53);
    expect(decoded.firstName).toBe('Ada');

    for (const value of [INT64_MIN, INT64_MAX, -1n]) {
      const ctx = RequestContext.decode(
        RequestContext.encode(
          RequestContext.create({ authKeyId: value, sessionId: value, userId: value }),
        ).finish(),
      );
      expect([ctx.authKeyId, ctx.sessionId, ctx.userId]).toEqual([value, value, value]);
    }
  });

  it('round-trips 64-bit values inside oneofs', () => {
    const peer: Peer = { kind: { $case: 'channelId', value: ABOVE_2_53 } };
    expect(Peer.decode(Peer.encode(peer).finish())).toEqual(peer);
  });

  it('rejects values that do not fit in 64 bits instead of wrapping them', () => {
    expect(() => User.encode(User.create({ accessHash: INT64_MAX + 1n }))).toThrow(/too large/);
  });

  it('keeps precision through the grpc-js (de)serializers', () => {
    const method = AuthServiceService.getAuthKeyUser;
    const wire = method.requestSerialize({ authKeyId: INT64_MIN });
    expect(method.requestDeserialize(wire).authKeyId).toBe(INT64_MIN);
  });

  it('exposes the AuthService methods under their gRPC paths', () => {
    const paths = Object.values(AuthServiceService).map((m) => m.path);
    const expected = [
      'SendCode',
      'ResendCode',
      'CancelCode',
      'SignIn',
      'SignUp',
      'LogOut',
      'ExportAuthorization',
      'ImportAuthorization',
      'CheckExportedAuthorization',
      'GetAuthorizations',
      'ResetAuthorization',
      'ResetAuthorizations',
      'RevokeImportedAuthorizations',
      'SaveAuthKey',
      'GetAuthKey',
      'BindTempAuthKey',
      'SetAuthKeyLayer',
      'BindAuthKeyUser',
      'GetAuthKeyUser',
      'DestroyAuthKey',
      'GetUsers',
      'GetFullUser',
      'GetProfiles',
      'UpdateProfile',
      'CheckUsername',
      'UpdateUsername',
      'ResolveUsername',
      'SetChannelUsername',
      'LookupPhone',
      'LookupUserDc',
      'MoveUser',
      'ImportUserData',
      'UploadProfilePhoto',
      'UpdateProfilePhoto',
      'DeleteProfilePhotos',
      'GetUserPhotos',
      'ListProfilePhotos',
      'GetPassword',
      'UpdatePasswordSettings',
      'CheckPassword',
    ].map((name) => `/tern.auth.v1.AuthService/${name}`);
    expect(paths).toEqual(expected);
    expect(Object.values(AuthServiceService).every((m) => !m.requestStream && !m.responseStream)).toBe(true);
  });
});
