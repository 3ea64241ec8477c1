/**
 * help.*: getConfig and getNearestDc, answered by the gateway itself from the deployment topology
 * (configuration, not business rules), and getAppConfig. dc_options list every DC's gateway
 * endpoints; the limits are the ones Tern enforces.
 */
import type { Topology } from '../../../shared/src/config/topology';
import type { TlObject } from '../mtproto/tl-types';

/** What help.* reads: the deployment's shape and which DC this is. */
export interface HelpDeps {
  dcId: number;
  topology: Topology;
}

/** Limits Tern announces (and, in the services that own them, enforces). */
export const LIMITS = {
  chatSizeMax: 200,
  megagroupSizeMax: 200_000,
  forwardedCountMax: 100,
  messageLengthMax: 4096,
  captionLengthMax: 1024,
  editTimeLimit: 48 * 3600,
  revokeTimeLimit: 48 * 3600,
  revokePmTimeLimit: 48 * 3600,
} as const;

/** How long a client may cache the config. */
const CONFIG_TTL_SECONDS = 3600;

export function dcOptions(topology: Topology): TlObject[] {
  return topology.dcs.flatMap((dc) => [
    { _: 'dcOption', id: dc.id, ip_address: dc.gateway.host, port: dc.gateway.tcpPort },
    // The same gateway also serves media (files live in their DC; there are no separate media DCs).
    { _: 'dcOption', id: dc.id, ip_address: dc.gateway.host, port: dc.gateway.tcpPort, media_only: true },
  ]);
}

export function config(
  topology: Topology,
  thisDc: number,
  now: number = Math.floor(Date.now() / 1000),
): TlObject {
  return {
    _: 'config',
    date: now,
    expires: now + CONFIG_TTL_SECONDS,
    test_mode: topology.testMode,
    this_dc: thisDc,
    dc_options: dcOptions(topology),
    dc_txt_domain_name: '',
    chat_size_max: LIMITS.chatSizeMax,
    megagroup_size_max: LIMITS.megagroupSizeMax,
    forwarded_count_max: LIMITS.forwardedCountMax,
    online_update_period_ms: 210_000,
    offline_blur_timeout_ms: 5_000,
    offline_idle_timeout_ms: 30_000,
    online_cloud_timeout_ms: 300_000,
    notify_cloud_delay_ms: 30_000,
    notify_default_delay_ms: 1_500,
    push_chat_period_ms: 60_000,
    push_chat_limit: 2,
    edit_time_limit: LIMITS.editTimeLimit,
    revoke_time_limit: LIMITS.revokeTimeLimit,
    revoke_pm_time_limit: LIMITS.revokePmTimeLimit,
    rating_e_decay: 2_419_200,
    stickers_recent_limit: 200,
    channels_read_media_period: 604_800,
    call_receive_timeout_ms: 20_000,
    call_ring_timeout_ms: 90_000,
    call_connect_timeout_ms: 30_000,
    call_packet_timeout_ms: 10_000,
    me_url_prefix: 'https://t.me/',
    caption_length_max: LIMITS.captionLengthMax,
    message_length_max: LIMITS.messageLengthMax,
    webfile_dc_id: thisDc,
  };
}

/** The nearest DC is this one until placement by client address exists (see auth's placement map). */
export function nearestDc(thisDc: number, nearest: number = thisDc, country = ''): TlObject {
  return { _: 'nearestDc', country, this_dc: thisDc, nearest_dc: nearest };
}

export function getConfig(_call: TlObject, _ctx: unknown, d: HelpDeps): Promise<TlObject> {
  return Promise.resolve(config(d.topology, d.dcId));
}

export function getNearestDc(_call: TlObject, _ctx: unknown, d: HelpDeps): Promise<TlObject> {
  return Promise.resolve(nearestDc(d.dcId));
}

/** A start-up call answered empty but valid (no app-specific configuration yet). */
export function getAppConfig(): Promise<TlObject> {
  return Promise.resolve({ _: 'help.appConfig', hash: 0, config: { _: 'jsonObject', value: [] } });
}
