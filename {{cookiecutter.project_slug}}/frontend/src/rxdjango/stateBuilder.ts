import { isInstanceId } from './protocol';
import type { ChannelModel, FlatInstance, InstanceId, UnloadedInstance } from './types';

/** A nested instance of the built state. */
export type BuiltInstance = Record<string, unknown>;

/** A nested serializer field of an instance type. */
interface Relation {
  field: string;
  childType: string;
  many: boolean;
}

type Reference = InstanceNode | InstanceNode[] | null;

/** One instance in the builder's table: received, referenced but not received yet, or deleted. */
interface InstanceNode {
  readonly type: string;
  readonly id: InstanceId;
  /** The held flat instance, with deltas merged. It is undefined until received and after a delete. */
  flat: FlatInstance | undefined;
  /** The nested object for `flat`. It is replaced, never mutated, when the instance or a descendant changes. */
  built: BuiltInstance | undefined;
  placeholder: UnloadedInstance | undefined;
  /** The referenced nodes, one entry per relation of the type, in the order of `relationsOf(type)`. */
  references: Reference[];
  /** `references` as they were when `built` was assembled. A list's array is replaced whenever the list changes. */
  builtReferences: Reference[];
  /** Nodes that reference this one, with the number of references each holds. */
  parents: Map<InstanceNode, number>;
  /** The `_tstamp` of the delete that removed this instance. */
  deletedTstamp: number | undefined;
  /** The rebuild pass that marked this node as changed or as an ancestor of a change. */
  dirtyPass: number;
  /** The rebuild pass that last rebuilt this node. */
  builtPass: number;
}

/**
 * Keeps the flat instances of a channel and builds its nested state.
 *
 * Every node records which nodes reference it, so applying a change rebuilds only the
 * changed instances and their ancestors, each once per batch. Everything else keeps its
 * object identity, which lets React skip unchanged subtrees.
 */
export class StateBuilder<TState = BuiltInstance> {
  readonly model: ChannelModel;

  private readonly nodes = new Map<string, Map<InstanceId, InstanceNode>>();
  private readonly relations = new Map<string, Relation[]>();
  private anchorIds: InstanceId[] = [];
  private anchorSet = new Set<InstanceId>();
  private readonly loadedAnchors = new Set<InstanceId>();
  private anchorsListed = false;
  private pass = 0;
  private roots: TState[] = [];
  private rootsStale = true;

  constructor(model: ChannelModel) {
    this.model = model;
    for (const [type, fields] of Object.entries(model.layers)) {
      const lists = new Set(model.lists[type] ?? []);
      this.relations.set(
        type,
        Object.entries(fields).map(([field, childType]) => ({
          field,
          childType,
          many: lists.has(field),
        })),
      );
    }
  }

  // Reading the state

  /** The anchor's nested state, or for a list channel the received anchors in anchor order. */
  get state(): TState | TState[] | undefined {
    if (this.model.many) {
      return this.listState();
    }
    const anchorId = this.anchorIds[0];
    if (anchorId === undefined) {
      return undefined;
    }
    return this.findNode(this.model.anchor, anchorId)?.built as TState | undefined;
  }

  /** The nested object of one instance, or undefined when it has not been received. */
  getInstance<T = BuiltInstance>(instanceType: string, id: InstanceId): T | undefined {
    return this.findNode(instanceType, id)?.built as T | undefined;
  }

  /** Returns the held flat instance, with deltas merged. */
  getFlat(instanceType: string, id: InstanceId): FlatInstance | undefined {
    return this.findNode(instanceType, id)?.flat;
  }

  get anchors(): readonly InstanceId[] {
    return this.anchorIds;
  }

  /** True when the server listed the anchors and there are none. */
  get empty(): boolean {
    return this.anchorsListed && this.anchorIds.length === 0;
  }

  /** True when every listed anchor has finished its initial load. */
  get loaded(): boolean {
    return this.anchorsListed && this.anchorIds.every((id) => this.loadedAnchors.has(id));
  }

  // Anchors

  /** Sets the anchor list, dropping the instances of anchors no longer listed. */
  setAnchors(ids: readonly InstanceId[]): void {
    const kept = new Set(ids);
    for (const id of this.anchorIds) {
      if (!kept.has(id)) {
        this.dropAnchor(id);
      }
    }
    this.anchorIds = [...new Set(ids)];
    this.anchorSet = kept;
    this.anchorsListed = true;
    this.rootsStale = true;
  }

  prependAnchor(id: InstanceId): void {
    if (!this.anchorSet.has(id)) {
      this.anchorIds = [id, ...this.anchorIds];
      this.anchorSet.add(id);
      this.rootsStale = true;
    }
  }

  appendAnchor(id: InstanceId): void {
    if (!this.anchorSet.has(id)) {
      this.anchorIds = [...this.anchorIds, id];
      this.anchorSet.add(id);
      this.rootsStale = true;
    }
  }

  removeAnchor(id: InstanceId): void {
    if (this.anchorSet.has(id)) {
      this.anchorIds = this.anchorIds.filter((anchorId) => anchorId !== id);
      this.dropAnchor(id);
      this.rootsStale = true;
    }
  }

  clearAnchors(): void {
    const removed = this.anchorIds;
    this.anchorIds = [];
    for (const id of removed) {
      this.dropAnchor(id);
    }
    this.rootsStale = true;
  }

  markAnchorLoaded(id: InstanceId): void {
    this.loadedAnchors.add(id);
  }

  // Applying instances

  /**
   * Applies a batch of flat instances (initial state, creates, updates, deltas and deletes)
   * and returns whether the state changed. Instances older than the held version are ignored.
   */
  applyInstances(instances: readonly FlatInstance[]): boolean {
    const changed: InstanceNode[] = [];
    for (const instance of instances) {
      if (instance._operation === 'delete') {
        this.applyDelete(instance, changed);
      } else {
        this.applyFlat(instance, changed);
      }
    }

    if (changed.length === 0) {
      return false;
    }
    this.rebuild(changed);
    return true;
  }

  private applyFlat(instance: FlatInstance, changed: InstanceNode[]): void {
    const node = this.nodeFor(instance._instance_type, instance.id);
    const held = node.flat;
    if (held !== undefined && instance._tstamp < held._tstamp) {
      return;
    }
    if (node.deletedTstamp !== undefined && instance._tstamp <= node.deletedTstamp) {
      return;
    }

    const next: FlatInstance =
      instance._operation === 'update' && held !== undefined
        ? { ...held, ...instance }
        : { ...instance };
    if (held !== undefined && sameFields(held, next)) {
      return;
    }

    node.flat = next;
    node.deletedTstamp = undefined;
    this.linkReferences(node);
    changed.push(node);
  }

  private applyDelete(instance: FlatInstance, changed: InstanceNode[]): void {
    const node = this.nodeFor(instance._instance_type, instance.id);
    const held = node.flat;
    if (held !== undefined && instance._tstamp < held._tstamp) {
      return;
    }
    node.deletedTstamp = Math.max(node.deletedTstamp ?? instance._tstamp, instance._tstamp);
    if (held === undefined) {
      return;
    }

    for (const parent of [...node.parents.keys()]) {
      this.removeReferencesTo(parent, node);
      changed.push(parent);
    }
    this.unlinkAll(node);
    node.flat = undefined;
    node.built = undefined;
    changed.push(node);
  }

  // Reverse references

  /** Updates the references of `node` to match its flat fields, keeping the parents index in step. */
  private linkReferences(node: InstanceNode): void {
    const flat = node.flat;
    if (flat === undefined) {
      return;
    }

    this.relationsOf(node.type).forEach((relation, index) => {
      const previous = node.references[index] ?? null;
      const value = flat[relation.field];

      if (relation.many) {
        const ids = Array.isArray(value) ? value.filter(isInstanceId) : [];
        const oldNodes = Array.isArray(previous) ? previous : [];
        if (sameIds(oldNodes, ids)) {
          return;
        }
        const newNodes = ids.map((id) => this.nodeFor(relation.childType, id));
        for (const child of newNodes) this.link(node, child);
        for (const child of oldNodes) this.unlink(node, child);
        node.references[index] = newNodes;
        return;
      }

      const id = isInstanceId(value) ? value : null;
      const oldNode = previous as InstanceNode | null;
      if ((oldNode?.id ?? null) === id) {
        return;
      }
      const newNode = id === null ? null : this.nodeFor(relation.childType, id);
      if (newNode !== null) this.link(node, newNode);
      if (oldNode !== null) this.unlink(node, oldNode);
      node.references[index] = newNode;
    });
  }

  /** Removes every reference of `parent` to `child`: from lists, and to-one fields become null. */
  private removeReferencesTo(parent: InstanceNode, child: InstanceNode): void {
    const flat = parent.flat;
    if (flat === undefined) {
      return;
    }

    const next: FlatInstance = { ...flat };
    this.relationsOf(parent.type).forEach((relation, index) => {
      if (relation.childType !== child.type) {
        return;
      }
      const reference = parent.references[index] ?? null;
      if (relation.many && Array.isArray(reference)) {
        const value = next[relation.field];
        next[relation.field] = Array.isArray(value) ? value.filter((id) => id !== child.id) : [];
        parent.references[index] = reference.filter((node) => node !== child);
      } else if (reference === child) {
        next[relation.field] = null;
        parent.references[index] = null;
      }
    });
    parent.flat = next;
    child.parents.delete(parent);
  }

  private link(parent: InstanceNode, child: InstanceNode): void {
    child.parents.set(parent, (child.parents.get(parent) ?? 0) + 1);
  }

  private unlink(parent: InstanceNode, child: InstanceNode): void {
    const count = child.parents.get(parent) ?? 0;
    if (count > 1) {
      child.parents.set(parent, count - 1);
      return;
    }
    child.parents.delete(parent);
    if (child.flat === undefined && child.deletedTstamp === undefined && child.parents.size === 0) {
      this.forget(child);
    }
  }

  /** Removes every reference held by `node`. */
  private unlinkAll(node: InstanceNode): void {
    for (const reference of node.references) {
      if (Array.isArray(reference)) {
        for (const child of reference) this.unlink(node, child);
      } else if (reference !== null) {
        this.unlink(node, reference);
      }
    }
    node.references = this.emptyReferences(node.type);
  }

  /**
   * Forgets an anchor and the instances only it references. The server sends an anchor's
   * whole state again when it is added back, so nothing needed is lost.
   */
  private dropAnchor(id: InstanceId): void {
    this.anchorSet.delete(id);
    this.loadedAnchors.delete(id);
    const node = this.findNode(this.model.anchor, id);
    if (node !== undefined) {
      this.dropUnreferenced(node);
    }
  }

  private dropUnreferenced(node: InstanceNode): void {
    if (node.parents.size > 0 || (node.type === this.model.anchor && this.anchorSet.has(node.id))) {
      return;
    }
    const children = node.references.flatMap((reference) => reference ?? []);
    this.unlinkAll(node);
    this.forget(node);
    for (const child of children) {
      this.dropUnreferenced(child);
    }
  }

  // Building nested objects

  /** Rebuilds the changed nodes and all their ancestors, children before parents. */
  private rebuild(changed: InstanceNode[]): void {
    this.pass += 1;
    const pass = this.pass;

    // Marks the changed nodes and their ancestors, and records for each parent which of
    // its children changed, so that rebuilding a parent touches only those positions.
    const dirty: InstanceNode[] = [];
    const changedChildren = new Map<InstanceNode, InstanceNode[]>();
    const stack = [...changed];
    for (let node = stack.pop(); node !== undefined; node = stack.pop()) {
      if (node.dirtyPass === pass) continue;
      node.dirtyPass = pass;
      dirty.push(node);
      for (const parent of node.parents.keys()) {
        const children = changedChildren.get(parent);
        if (children === undefined) changedChildren.set(parent, [node]);
        else children.push(node);
        if (parent.dirtyPass !== pass) stack.push(parent);
      }
    }

    for (const node of dirty) {
      this.buildNode(node, pass, changedChildren);
      if (node.type === this.model.anchor && this.anchorSet.has(node.id)) {
        this.rootsStale = true;
      }
    }
  }

  private buildNode(
    node: InstanceNode,
    pass: number,
    changedChildren: Map<InstanceNode, InstanceNode[]>,
  ): void {
    if (node.builtPass === pass) {
      return;
    }
    // Set before the children are built, so a reference cycle cannot recurse forever.
    node.builtPass = pass;

    const children = changedChildren.get(node) ?? [];
    for (const child of children) {
      this.buildNode(child, pass, changedChildren);
    }

    node.built = node.flat === undefined ? undefined : this.assemble(node, node.flat, children);
    node.builtReferences = node.built === undefined ? [] : [...node.references];
  }

  private assemble(
    node: InstanceNode,
    flat: FlatInstance,
    changedChildren: InstanceNode[],
  ): BuiltInstance {
    const previous = node.built;
    const built: BuiltInstance = {};
    for (const key in flat) {
      if (key !== '_operation') built[key] = flat[key];
    }

    this.relationsOf(node.type).forEach((relation, index) => {
      const reference = node.references[index] ?? null;
      if (!relation.many) {
        built[relation.field] =
          reference === null || Array.isArray(reference) ? null : this.resolve(reference);
        return;
      }

      const children = Array.isArray(reference) ? reference : [];
      const old = previous?.[relation.field];
      const patched =
        Array.isArray(old) && node.builtReferences[index] === reference
          ? this.patchList(old, children, changedChildren, relation.childType)
          : null;
      if (patched !== null) {
        built[relation.field] = patched;
        return;
      }
      const items = this.resolveList(children);
      built[relation.field] = Array.isArray(old) && sameItems(old, items) ? old : items;
    });
    return built;
  }

  /**
   * Updates a list whose references did not change since it was built, replacing only the
   * positions of changed children. Returns null when the list must be built in full,
   * because an item was skipped (so positions no longer match) or a child was deleted.
   */
  private patchList(
    old: unknown[],
    children: InstanceNode[],
    changedChildren: InstanceNode[],
    childType: string,
  ): unknown[] | null {
    if (old.length !== children.length) {
      return null;
    }
    let items = old;
    for (const child of changedChildren) {
      if (child.type !== childType) continue;
      const value = this.resolve(child);
      if (value === null) {
        return null;
      }
      for (
        let position = children.indexOf(child);
        position !== -1;
        position = children.indexOf(child, position + 1)
      ) {
        if (items[position] === value) continue;
        if (items === old) items = old.slice();
        items[position] = value;
      }
    }
    return items;
  }

  private resolveList(children: InstanceNode[]): unknown[] {
    // Sized up front: growing a large array by push costs more than the whole loop.
    const items: unknown[] = new Array<unknown>(children.length);
    let length = 0;
    for (const child of children) {
      const value = this.resolve(child);
      if (value !== null) {
        items[length] = value;
        length += 1;
      }
    }
    items.length = length;
    return items;
  }

  /** Returns the child's nested object, its placeholder until it arrives, or null once deleted. */
  private resolve(child: InstanceNode): BuiltInstance | UnloadedInstance | null {
    if (child.built !== undefined) {
      return child.built;
    }
    if (child.deletedTstamp !== undefined) {
      return null;
    }
    child.placeholder ??= { id: child.id, _instance_type: child.type, _loaded: false };
    return child.placeholder;
  }

  private listState(): TState[] {
    if (!this.rootsStale) {
      return this.roots;
    }
    const roots: TState[] = [];
    for (const id of this.anchorIds) {
      const built = this.findNode(this.model.anchor, id)?.built;
      if (built !== undefined) roots.push(built as TState);
    }
    if (!sameItems(this.roots, roots)) {
      this.roots = roots;
    }
    this.rootsStale = false;
    return this.roots;
  }

  // Node table

  private relationsOf(type: string): Relation[] {
    return this.relations.get(type) ?? [];
  }

  private emptyReferences(type: string): Reference[] {
    return this.relationsOf(type).map(() => null);
  }

  private findNode(type: string, id: InstanceId): InstanceNode | undefined {
    return this.nodes.get(type)?.get(id);
  }

  private nodeFor(type: string, id: InstanceId): InstanceNode {
    let byId = this.nodes.get(type);
    if (byId === undefined) {
      byId = new Map();
      this.nodes.set(type, byId);
    }
    let node = byId.get(id);
    if (node === undefined) {
      node = {
        type,
        id,
        flat: undefined,
        built: undefined,
        placeholder: undefined,
        references: this.emptyReferences(type),
        builtReferences: [],
        parents: new Map(),
        deletedTstamp: undefined,
        dirtyPass: 0,
        builtPass: 0,
      };
      byId.set(id, node);
    }
    return node;
  }

  private forget(node: InstanceNode): void {
    this.nodes.get(node.type)?.delete(node.id);
  }
}

function sameIds(nodes: readonly InstanceNode[], ids: readonly InstanceId[]): boolean {
  return nodes.length === ids.length && nodes.every((node, index) => node.id === ids[index]);
}

function sameItems(a: readonly unknown[], b: readonly unknown[]): boolean {
  if (a.length !== b.length) {
    return false;
  }
  for (let index = 0; index < a.length; index += 1) {
    if (a[index] !== b[index]) return false;
  }
  return true;
}

/** Compares two flat instances field by field, ignoring `_operation`. */
function sameFields(a: FlatInstance, b: FlatInstance): boolean {
  const keysA = Object.keys(a).filter((key) => key !== '_operation');
  const keysB = Object.keys(b).filter((key) => key !== '_operation');
  return (
    keysA.length === keysB.length && keysA.every((key) => key in b && sameJson(a[key], b[key]))
  );
}

function sameJson(a: unknown, b: unknown): boolean {
  if (a === b) {
    return true;
  }
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) {
    return false;
  }
  if (Array.isArray(a) || Array.isArray(b)) {
    return (
      Array.isArray(a) &&
      Array.isArray(b) &&
      a.length === b.length &&
      a.every((item, i) => sameJson(item, b[i]))
    );
  }
  const recordA = a as Record<string, unknown>;
  const recordB = b as Record<string, unknown>;
  const keys = Object.keys(recordA);
  return (
    keys.length === Object.keys(recordB).length &&
    keys.every((key) => key in recordB && sameJson(recordA[key], recordB[key]))
  );
}
