/**
 * Whether a real-OpenStack suite runs (OCX_TEST_TARGET=real, as `.ci/run` sets it for the real stage), the skip
 * reason when it does not, and the clouds.yaml test/real/openstack.sh writes (OS_CLIENT_CONFIG_FILE).
 */
export const real = process.env.OCX_TEST_TARGET === 'real';
export const skip: false | string = real
  ? false
  : 'set OCX_TEST_TARGET=real (and OS_CLIENT_CONFIG_FILE) to run against real OpenStack';
export const cloudsFile = process.env.OS_CLIENT_CONFIG_FILE ?? '/tmp/ocx-real/clouds.yaml';
