// Public exports of transport/ (owned by the engineer working on transport/).
export {};
