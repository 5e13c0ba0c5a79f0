// Public exports of services/ (owned by the engineer working on services/).
export {};
