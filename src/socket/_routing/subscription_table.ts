/**
 * Counted prefix subscriptions (RFC 29): a byte trie where each node counts
 * how many times its prefix was subscribed. Matching walks the message's
 * first frame byte by byte and stops at the first subscribed prefix, so its
 * cost depends on the topic's length, not on the number of subscriptions,
 * and it allocates nothing.
 *
 * @module
 */

class Node {
  count = 0;
  /** Children by byte; most nodes have one or two, so a small array beats a Map. */
  keys: number[] = [];
  children: Node[] = [];

  child(byte: number): Node | undefined {
    const i = this.keys.indexOf(byte);
    return i < 0 ? undefined : this.children[i];
  }
}

/** A set of subscribed prefixes with a count per prefix. */
export class SubscriptionTable {
  #root = new Node();
  #distinct = 0;

  /** The number of distinct prefixes subscribed. */
  get size(): number {
    return this.#distinct;
  }

  /** Adds one subscription; returns true if the prefix was not subscribed before. */
  add(prefix: Uint8Array): boolean {
    let node = this.#root;
    for (let i = 0; i < prefix.length; i++) {
      const b = prefix[i];
      let next = node.child(b);
      if (next === undefined) {
        next = new Node();
        node.keys.push(b);
        node.children.push(next);
      }
      node = next;
    }
    node.count++;
    if (node.count === 1) this.#distinct++;
    return node.count === 1;
  }

  /**
   * Removes one subscription; returns true if it was the last one for the
   * prefix. Removing a prefix that is not subscribed returns false.
   */
  remove(prefix: Uint8Array): boolean {
    const path: Node[] = [this.#root];
    let node = this.#root;
    for (let i = 0; i < prefix.length; i++) {
      const next = node.child(prefix[i]);
      if (next === undefined) return false;
      node = next;
      path.push(node);
    }
    if (node.count === 0) return false;
    node.count--;
    if (node.count > 0) return false;
    this.#distinct--;
    // Prune empty branches so the trie does not grow with churn.
    for (let i = prefix.length; i > 0; i--) {
      const n = path[i];
      if (n.count > 0 || n.keys.length > 0) break;
      const parent = path[i - 1];
      const k = parent.keys.indexOf(prefix[i - 1]);
      parent.keys.splice(k, 1);
      parent.children.splice(k, 1);
    }
    return true;
  }

  /** Whether some subscribed prefix is a prefix of `data`. */
  matches(data: Uint8Array): boolean {
    let node: Node | undefined = this.#root;
    if (node.count > 0) return true;
    for (let i = 0; i < data.length; i++) {
      node = node.child(data[i]);
      if (node === undefined) return false;
      if (node.count > 0) return true;
    }
    return false;
  }

  /** Every subscribed prefix once (for resending after a reconnect). */
  prefixes(): Uint8Array[] {
    const out: Uint8Array[] = [];
    const walk = (node: Node, path: number[]) => {
      if (node.count > 0) out.push(Uint8Array.from(path));
      for (let i = 0; i < node.keys.length; i++) {
        path.push(node.keys[i]);
        walk(node.children[i], path);
        path.pop();
      }
    };
    walk(this.#root, []);
    return out;
  }

  /** Removes everything. */
  clear(): void {
    this.#root = new Node();
    this.#distinct = 0;
  }
}
