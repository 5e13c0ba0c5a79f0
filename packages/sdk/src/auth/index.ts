// Public exports of auth/ (owned by the engineer working on auth/).
export {};
