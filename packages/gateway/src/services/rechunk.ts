/** The SDK's rechunk (its gateway backend cuts uploads with it too). */
export { rechunk } from '@ocx/sdk';
