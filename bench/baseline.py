#!/usr/bin/env python3
"""The baseline the performance budgets are ratios to: a plain Python string-format
script that writes the Kubernetes objects of the reference workload (N services, two
environments) into one file per environment, checking nothing.

    python3 bench/baseline.py N OUTDIR

It mirrors the objects hawser writes for each service of `hawser::synthetic::spec(N)`:
ServiceAccount, ConfigMap, Service, Deployment, PodDisruptionBudget and NetworkPolicy.
It reads nothing and needs no network.
"""
import hashlib
import os
import sys

OBJECTS = """---
apiVersion: v1
kind: ServiceAccount
metadata:
  name: {name}
  namespace: {ns}
  labels:{labels}
automountServiceAccountToken: false
---
apiVersion: v1
kind: ConfigMap
metadata:
  name: {name}
  namespace: {ns}
  labels:{labels}
data:
  LOG_LEVEL: info
  UPSTREAM: {upstream}
---
apiVersion: v1
kind: Service
metadata:
  name: {name}
  namespace: {ns}
  labels:{labels}
spec:
  type: ClusterIP
  selector:{selector}
  ports:
  - name: http
    port: 8080
    targetPort: http
    protocol: TCP
---
apiVersion: apps/v1
kind: Deployment
metadata:
  name: {name}
  namespace: {ns}
  labels:{labels}
spec:
  replicas: 2
  selector:
    matchLabels:{selector2}
  template:
    metadata:
      labels:{labels3}
      annotations:
        hawser.dev/config-checksum: {checksum}
        hawser.dev/qos-class: Burstable
    spec:
      serviceAccountName: {name}
      automountServiceAccountToken: false
      enableServiceLinks: false
      terminationGracePeriodSeconds: 30
      securityContext:
        runAsNonRoot: true
        runAsUser: 65532
        runAsGroup: 65532
        fsGroup: 65532
        seccompProfile:
          type: RuntimeDefault
      containers:
      - name: {name}
        image: {image}
        imagePullPolicy: IfNotPresent
        ports:
        - name: http
          containerPort: 8080
          protocol: TCP
        envFrom:
        - configMapRef:
            name: {name}
        env:
        - name: GOMAXPROCS
          value: "1"
        - name: GOMEMLIMIT
          value: 230MiB
        resources:
          requests:
            cpu: 100m
            memory: 128Mi
          limits:
            cpu: 500m
            memory: 256Mi
        readinessProbe:
          httpGet:
            path: /readyz
            port: http
          periodSeconds: 10
          timeoutSeconds: 1
          failureThreshold: 3
        livenessProbe:
          httpGet:
            path: /healthz
            port: http
          periodSeconds: 10
          timeoutSeconds: 1
          failureThreshold: 3
        lifecycle:
          preStop:
            sleep:
              seconds: 5
        securityContext:
          allowPrivilegeEscalation: false
          privileged: false
          readOnlyRootFilesystem: true
          runAsNonRoot: true
          runAsUser: 65532
          runAsGroup: 65532
          capabilities:
            drop:
            - ALL
          seccompProfile:
            type: RuntimeDefault
        volumeMounts:
        - name: tmp
          mountPath: /tmp
      volumes:
      - name: tmp
        emptyDir:
          sizeLimit: 64Mi
---
apiVersion: policy/v1
kind: PodDisruptionBudget
metadata:
  name: {name}
  namespace: {ns}
  labels:{labels}
spec:
  maxUnavailable: 1
  selector:
    matchLabels:{selector2}
---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata:
  name: {name}
  namespace: {ns}
  labels:{labels}
spec:
  podSelector:
    matchLabels:{selector2}
  policyTypes:
  - Ingress
  - Egress
  ingress: []
  egress:
  - to:
    - namespaceSelector:
        matchLabels:
          kubernetes.io/metadata.name: kube-system
      podSelector:
        matchLabels:
          k8s-app: kube-dns
    ports:
    - protocol: UDP
      port: 53
    - protocol: TCP
      port: 53
"""


def block(pairs, indent):
    pad = "\n" + " " * indent
    return "".join(f"{pad}{k}: {v}" for k, v in pairs)


def main():
    n, out = int(sys.argv[1]), sys.argv[2]
    os.makedirs(out, exist_ok=True)
    for env, ns in (("staging", "bench-staging"), ("prod", "bench")):
        parts = ["# generated from hawser.kdl\n"]
        for i in range(n):
            name = f"svc-{i}"
            label_pairs = [
                ("app.kubernetes.io/component", name),
                ("app.kubernetes.io/instance", "bench"),
                ("app.kubernetes.io/managed-by", "hawser"),
                ("app.kubernetes.io/name", name),
                ("app.kubernetes.io/part-of", "bench"),
                ("app.kubernetes.io/version", '"1.0.0"'),
            ]
            selector_pairs = [("app.kubernetes.io/instance", "bench"), ("app.kubernetes.io/name", name)]
            upstream = f"svc-{(i + 1) % n}.bench.svc"
            parts.append(
                OBJECTS.format(
                    name=name,
                    ns=ns,
                    labels=block(label_pairs, 4),
                    labels3=block(label_pairs, 8),
                    selector=block(selector_pairs, 4),
                    selector2=block(selector_pairs, 6),
                    upstream=upstream,
                    checksum=hashlib.sha256(f"info\n{upstream}".encode()).hexdigest(),
                    image=f"registry.example.com/bench/svc-{i}:1.0.{i}",
                )
            )
        with open(os.path.join(out, f"{env}.yaml"), "w") as f:
            f.write("".join(parts))


if __name__ == "__main__":
    main()
