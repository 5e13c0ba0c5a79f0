// Public exports of multicloud/ (owned by the engineer working on multicloud/).
export {};
