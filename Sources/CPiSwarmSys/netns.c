#define _GNU_SOURCE
#include <arpa/inet.h>
#include <net/if.h>
#include <netinet/in.h>
#include <sched.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include "CPiSwarmSys.h"

int piswarm_setns_net(int fd) { return setns(fd, CLONE_NEWNET); }

static int request_for(const char *name, struct ifreq *request) {
  if (strlen(name) >= IFNAMSIZ) return -1;
  memset(request, 0, sizeof(*request));
  strncpy(request->ifr_name, name, IFNAMSIZ - 1);
  return 0;
}

int piswarm_interface_mac(const char *name, uint8_t mac[6]) {
  struct ifreq request;
  if (request_for(name, &request) != 0) return -1;
  int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return -1;
  int result = ioctl(fd, SIOCGIFHWADDR, &request);
  close(fd);
  if (result != 0) return -1;
  memcpy(mac, request.ifr_hwaddr.sa_data, 6);
  return 0;
}

int piswarm_interface_set_ipv4(const char *name, uint32_t address, uint32_t mask) {
  struct ifreq request;
  if (request_for(name, &request) != 0) return -1;
  int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return -1;
  struct sockaddr_in *in = (struct sockaddr_in *)&request.ifr_addr;
  in->sin_family = AF_INET;
  in->sin_addr.s_addr = htonl(address);
  int result = ioctl(fd, SIOCSIFADDR, &request);
  if (result == 0) {
    in = (struct sockaddr_in *)&request.ifr_netmask;
    in->sin_family = AF_INET;
    in->sin_addr.s_addr = htonl(mask);
    result = ioctl(fd, SIOCSIFNETMASK, &request);
  }
  close(fd);
  return result;
}
