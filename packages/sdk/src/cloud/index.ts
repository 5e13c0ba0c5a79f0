// Public exports of cloud/ (owned by the engineer working on cloud/).
export {};
