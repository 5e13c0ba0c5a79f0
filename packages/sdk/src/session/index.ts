// Public exports of session/ (owned by the engineer working on session/).
export {};
